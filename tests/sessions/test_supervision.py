"""Live supervision: the board of contacts in progress, the supervisor's read-only view of a
draft, consult replies and the co-sign notification."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crisisnotes.audit.models import Action, AuditEvent
from crisisnotes.notifications.models import Notification
from sessions.models import ConsultReply, CrisisSession
from sessions.models.notes import NoteStatus, RiskLevel
from sessions.selectors.supervision import live_board_list
from sessions.services.notes import note_autosave
from sessions.services.signing import note_sign
from sessions.services.supervision import (
    ConsultError,
    consult_reply_post,
    note_cosign_request_notify,
)
from tests.conftest import login
from tests.factories import ClientFactory, NoteFactory, TeamFactory, UserFactory
from tests.sessions.note_helpers import (
    complete_data,
    only_session_rules,  # noqa: F401 (fixture)
    start_note,
)

pytestmark = pytest.mark.django_db


def _draft(author, **fields):
    return NoteFactory.create(author=author, **fields)


# --- the board ------------------------------------------------------------------------------


def test_board_lists_team_drafts_most_urgent_first(supervisor, counselor, teammate, clinic):
    now = timezone.now()
    low = _draft(counselor, started_at=now - timedelta(minutes=30), screen_risk=RiskLevel.LOW)
    asked = _draft(teammate, started_at=now - timedelta(minutes=5), consult_requested_at=now)
    high = _draft(teammate, started_at=now - timedelta(minutes=2), clinician_risk=RiskLevel.HIGH)
    imminent = _draft(counselor, started_at=now - timedelta(minutes=1), imminent=True)
    moderate = _draft(counselor, started_at=now - timedelta(minutes=3), screen_risk="moderate")
    # Not on the board: signed notes, drafts older than a day, the supervisor's own, other teams.
    NoteFactory.create(awaiting_cosign=True, author=counselor)
    _draft(counselor, started_at=now - timedelta(hours=25), screen_risk=RiskLevel.HIGH)
    _draft(supervisor, screen_risk=RiskLevel.HIGH)
    stranger = UserFactory(clinic=clinic, team=TeamFactory(clinic=clinic, name="Day team"))
    _draft(stranger, screen_risk=RiskLevel.HIGH)

    rows = live_board_list(user=supervisor)

    assert [n.pk for n in rows] == [imminent.pk, high.pk, asked.pk, moderate.pk, low.pk]
    assert [n.can_open for n in rows] == [True, True, True, True, False]


def _board_rows_queries(client) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("crisis_sessions:live_board_rows"))
    assert response.status_code == 200
    return len(ctx)


def test_board_rows_run_a_constant_number_of_queries(client, supervisor, counselor, teammate):
    login(client, supervisor)
    _draft(counselor, screen_risk=RiskLevel.HIGH, consult_requested_at=timezone.now())
    few = _board_rows_queries(client)
    for _ in range(6):
        _draft(teammate, clinician_risk=RiskLevel.MODERATE)
        _draft(counselor, imminent=True)
    assert _board_rows_queries(client) == few


def test_board_poll_answers_204_when_nothing_changed(client, supervisor, counselor):
    login(client, supervisor)
    note = _draft(counselor)
    page = client.get(reverse("crisis_sessions:live_board"))
    assert page.status_code == 200
    version = page.context["board_version"]
    url = reverse("crisis_sessions:live_board_rows")
    assert client.get(url, {"v": version}).status_code == 204
    CrisisSession.objects.filter(pk=note.pk).update(screen_risk=RiskLevel.HIGH)
    changed = client.get(url, {"v": version})
    assert changed.status_code == 200
    assert b"High" in changed.content and b"Open read-only" in changed.content


def test_board_is_for_supervisors(client, counselor):
    login(client, counselor)
    assert client.get(reverse("crisis_sessions:live_board")).status_code == 403
    assert client.get(reverse("crisis_sessions:live_board_rows")).status_code == 403


def test_opening_the_board_is_audited_once_not_per_poll(client, supervisor):
    login(client, supervisor)
    client.get(reverse("crisis_sessions:live_board"))
    client.get(reverse("crisis_sessions:live_board_rows"))
    client.get(reverse("crisis_sessions:live_board_rows"))
    assert AuditEvent.objects.filter(actor=supervisor, summary="Opened the live board").count() == 1


# --- reading a draft in progress --------------------------------------------------------------


def _open(client, user, note):
    login(client, user)
    return client.get(reverse("crisis_sessions:supervise_note", args=[note.pk]))


def test_supervisor_reads_a_high_risk_draft_and_the_view_is_audited(client, supervisor, counselor):
    note = _draft(counselor, screen_risk=RiskLevel.HIGH)
    response = _open(client, supervisor, note)
    assert response.status_code == 200
    assert b"Read-only" in response.content
    # No editing form of the note on the page: no autosave form, no sign button.
    assert b'id="note-form"' not in response.content and b"Sign note" not in response.content
    event = AuditEvent.objects.get(action=Action.SUPERVISE_VIEW)
    assert event.actor == supervisor and event.object_id == str(note.pk)
    assert event.get_action_display() == "Viewed draft (supervision)"


def test_supervisor_reads_a_draft_whose_counselor_asked_for_a_consult(
    client, supervisor, counselor
):
    note = _draft(counselor, consult_requested_at=timezone.now())
    assert _open(client, supervisor, note).status_code == 200


@pytest.mark.parametrize("risk", ["", RiskLevel.NONE, RiskLevel.LOW])
def test_supervisor_cannot_read_a_low_risk_draft_without_a_consult(
    client, supervisor, counselor, risk
):
    note = _draft(counselor, screen_risk=risk, clinician_risk=risk)
    assert _open(client, supervisor, note).status_code == 404
    assert not AuditEvent.objects.filter(action=Action.SUPERVISE_VIEW).exists()


def test_supervisor_of_another_team_cannot_read_the_draft(client, clinic, counselor):
    other = UserFactory(clinic=clinic, is_supervisor=True)
    TeamFactory(clinic=clinic, name="Day team", supervisor=other)
    note = _draft(counselor, screen_risk=RiskLevel.HIGH, consult_requested_at=timezone.now())
    assert _open(client, other, note).status_code == 404


def test_supervisor_of_another_clinic_cannot_read_the_draft(client, outsider, counselor):
    note = _draft(counselor, imminent=True)
    assert _open(client, outsider, note).status_code == 404


def test_a_counselor_cannot_read_a_teammates_high_risk_draft(client, teammate, counselor):
    note = _draft(counselor, screen_risk=RiskLevel.HIGH)
    assert _open(client, teammate, note).status_code == 403
    # The note page stays author-only for drafts, for the supervisor too.
    login(client, teammate)
    assert client.get(note.get_absolute_url()).status_code == 404


def test_the_note_page_stays_author_only_for_the_supervisor(client, supervisor, counselor):
    note = _draft(counselor, screen_risk=RiskLevel.HIGH)
    login(client, supervisor)
    assert client.get(note.get_absolute_url()).status_code == 404


def test_signed_note_is_no_longer_open_on_the_board_view(client, supervisor, counselor):
    note = NoteFactory.create(awaiting_cosign=True, author=counselor, screen_risk=RiskLevel.HIGH)
    assert _open(client, supervisor, note).status_code == 404


# --- consult replies --------------------------------------------------------------------------


def test_consult_reply_reaches_the_author_note_and_bell(client, supervisor, counselor):
    note = _draft(counselor, screen_risk=RiskLevel.HIGH)
    login(client, supervisor)
    response = client.post(
        reverse("crisis_sessions:supervise_reply", args=[note.pk]),
        {"text": "  Ask about the pills; call me after.  "},
    )
    assert response.status_code == 302
    reply = ConsultReply.objects.get()
    assert reply.text == "Ask about the pills; call me after."
    assert reply.author_name == supervisor.signature_line
    notice = Notification.objects.get(recipient=counselor)
    assert notice.kind == "consult_reply" and notice.url == note.get_absolute_url()
    assert AuditEvent.objects.filter(actor=supervisor, action=Action.CREATE).exists()

    login(client, counselor)
    url = reverse("crisis_sessions:note_consult_replies", args=[note.pk])
    poll = client.get(url, {"seen": 0})
    assert poll.status_code == 200 and b"Ask about the pills" in poll.content
    assert client.get(url, {"seen": 1}).status_code == 204
    assert b"Ask about the pills" in client.get(note.get_absolute_url()).content


def test_an_empty_reply_is_refused_and_keeps_nothing(client, supervisor, counselor):
    note = _draft(counselor, screen_risk=RiskLevel.HIGH)
    login(client, supervisor)
    response = client.post(
        reverse("crisis_sessions:supervise_reply", args=[note.pk]), {"text": "   "}
    )
    assert response.status_code == 400
    assert b"Write your reply first." in response.content
    assert not ConsultReply.objects.exists()


def test_a_too_long_reply_is_refused_with_the_text_kept(client, supervisor, counselor):
    note = _draft(counselor, screen_risk=RiskLevel.HIGH)
    login(client, supervisor)
    text = "x" * 2001
    response = client.post(
        reverse("crisis_sessions:supervise_reply", args=[note.pk]), {"text": text}
    )
    assert response.status_code == 400
    assert text.encode() in response.content
    assert not ConsultReply.objects.exists()


def test_reply_on_a_note_signed_meanwhile_is_refused(supervisor, counselor):
    note = _draft(counselor, screen_risk=RiskLevel.HIGH)
    stale = CrisisSession.objects.get(pk=note.pk)
    CrisisSession.objects.filter(pk=note.pk).update(
        status=NoteStatus.SIGNED, signed_at=timezone.now(), ended_at=timezone.now()
    )
    with pytest.raises(ConsultError, match="signed"):
        consult_reply_post(supervisor=supervisor, note=stale, text="Too late")
    assert not ConsultReply.objects.exists()


def test_only_the_author_polls_their_replies(client, teammate, counselor):
    note = _draft(counselor, screen_risk=RiskLevel.HIGH)
    login(client, teammate)
    url = reverse("crisis_sessions:note_consult_replies", args=[note.pk])
    assert client.get(url).status_code == 404


def test_consult_replies_are_append_only(supervisor, counselor):
    note = _draft(counselor, screen_risk=RiskLevel.HIGH)
    reply = consult_reply_post(supervisor=supervisor, note=note, text="Stay on the line.")
    with pytest.raises(IntegrityError):
        ConsultReply.objects.filter(pk=reply.pk).update(text="changed")


# --- awaiting co-sign -------------------------------------------------------------------------


def test_a_note_awaiting_cosign_notifies_the_team_supervisor_once(supervisor, trainee, mailoutbox):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    note_cosign_request_notify(note=note)
    note_cosign_request_notify(note=note)
    notices = Notification.objects.filter(recipient=supervisor, kind="awaiting_cosign")
    assert notices.count() == 1
    assert notices.get().url == reverse("crisis_sessions:review_note", args=[note.pk])
    assert "Sam Testintern" in notices.get().message


def test_no_cosign_notice_without_an_active_supervisor(supervisor, trainee):
    supervisor.is_active = False
    supervisor.save(update_fields=["is_active"])
    note_cosign_request_notify(note=NoteFactory.create(awaiting_cosign=True, author=trainee))
    assert not Notification.objects.filter(kind="awaiting_cosign").exists()


def test_board_row_names_counselor_and_client(client, supervisor, counselor):
    client_record = ClientFactory(
        clinic=counselor.clinic, created_by=counselor, alias="Caller, red"
    )
    _draft(counselor, client=client_record, screen_risk=RiskLevel.MODERATE)
    login(client, supervisor)
    body = client.get(reverse("crisis_sessions:live_board_rows")).content.decode()
    assert "Caller, red" in body and counselor.display_name in body and "Moderate" in body


@pytest.mark.usefixtures("only_session_rules")
def test_signing_a_trainee_note_notifies_and_emails_the_supervisor(
    supervisor, trainee, counselor, mailoutbox, django_capture_on_commit_callbacks, eager_tasks
):
    note = start_note(trainee)
    note = note_autosave(note=note, user=trainee, base_version=1, data=complete_data(note))
    with django_capture_on_commit_callbacks(execute=True):
        note_sign(note=note, user=trainee)
    notice = Notification.objects.get(recipient=supervisor, kind="awaiting_cosign")
    assert notice.event_key == f"note:{note.pk}:awaiting_cosign:0"
    assert [m.to for m in mailoutbox] == [[supervisor.email]]
    # A note that locks at signing asks nobody for anything.
    plain = start_note(counselor)
    plain = note_autosave(note=plain, user=counselor, base_version=1, data=complete_data(plain))
    note_sign(note=plain, user=counselor)
    assert Notification.objects.filter(kind="awaiting_cosign").count() == 1


def test_signed_out_polls_stop_instead_of_swapping_in_the_login_page(client, counselor):
    note = _draft(counselor)
    for url in (
        reverse("crisis_sessions:live_board_rows"),
        reverse("crisis_sessions:note_consult_replies", args=[note.pk]),
    ):
        response = client.get(url, headers={"X-Live-Poll": "1"})
        assert response.status_code == 286 and response.content == b""


@pytest.mark.django_db(transaction=True)
def test_a_reply_waits_for_a_signature_in_progress_and_is_then_refused(supervisor, counselor):
    """The counselor signs while the supervisor replies: the reply takes the note's row lock
    after the signing transaction, sees the note signed and saves nothing (a reply never lands
    on a signed note unseen by the rule)."""
    import threading
    import time

    from django.db import transaction

    note = _draft(counselor, screen_risk=RiskLevel.HIGH)
    holding, release = threading.Event(), threading.Event()

    def signing() -> None:
        try:
            with transaction.atomic():
                CrisisSession.objects.select_for_update().get(pk=note.pk)
                CrisisSession.objects.filter(pk=note.pk).update(
                    status=NoteStatus.SIGNED, signed_at=timezone.now(), ended_at=timezone.now()
                )
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=signing)
    thread.start()
    outcome: list[BaseException | None] = []

    def replying() -> None:
        try:
            consult_reply_post(supervisor=supervisor, note=note, text="Call me")
            outcome.append(None)
        except ConsultError as error:
            outcome.append(error)
        finally:
            connection.close()

    try:
        assert holding.wait(timeout=10)
        replier = threading.Thread(target=replying)
        replier.start()
        time.sleep(0.5)
        assert replier.is_alive()  # blocked on the row lock the signature holds
    finally:
        release.set()
        thread.join(timeout=30)
    replier.join(timeout=30)
    assert len(outcome) == 1 and isinstance(outcome[0], ConsultError)
    assert not ConsultReply.objects.exists()


def test_the_read_only_view_follows_the_draft_and_stops_when_it_is_signed(
    client, supervisor, counselor
):
    note = _draft(counselor, screen_risk=RiskLevel.HIGH)
    page = _open(client, supervisor, note)
    url = reverse("crisis_sessions:supervise_note_content", args=[note.pk])
    version = page.context["draft_version"]
    assert client.get(url, {"v": version}).status_code == 204
    views = AuditEvent.objects.filter(action=Action.SUPERVISE_VIEW).count()

    CrisisSession.objects.filter(pk=note.pk).update(
        clinician_risk=RiskLevel.HIGH, version=note.version + 1, updated_at=timezone.now()
    )
    changed = client.get(url, {"v": version})
    assert changed.status_code == 200 and b"Clinician: High" in changed.content
    # New content is another read of the draft: audited; an unchanged poll is not.
    assert AuditEvent.objects.filter(action=Action.SUPERVISE_VIEW).count() == views + 1

    CrisisSession.objects.filter(pk=note.pk).update(
        status=NoteStatus.SIGNED, signed_at=timezone.now(), ended_at=timezone.now()
    )
    stopped = client.get(url, {"v": version})
    assert stopped.status_code == 286 and stopped.content == b""
