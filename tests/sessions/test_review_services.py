import hashlib
from datetime import UTC, datetime

import pytest
from django.core import mail
from django.db import IntegrityError, transaction

from crisisnotes.audit.models import Action, AuditEvent
from crisisnotes.notifications.models import Notification
from sessions.hashing import cosign_hash_compute
from sessions.models import CrisisSession, ReviewComment
from sessions.models.notes import NoteStatus
from sessions.services.review import (
    ReviewError,
    note_cosign,
    note_return,
)
from tests.factories import NoteFactory, TeamFactory, UserFactory
from tests.mail import deliver_queued_email

pytestmark = pytest.mark.django_db


def test_cosign_locks_the_note_with_the_supervisors_signature(supervisor, trainee):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)

    note_cosign(note=note, supervisor=supervisor)

    note.refresh_from_db()
    assert note.status == NoteStatus.SIGNED
    assert note.cosigned_by == supervisor
    assert note.cosigner_name == "Morgan Testsuper"
    assert note.cosigner_credential == "LCSW"
    assert note.cosigner_licence == supervisor.licence_number
    assert note.signer_name == "Sam Testintern"  # the author's signature stays
    assert note.cosign_hash == cosign_hash_compute(
        content_hash=note.content_hash,
        cosigner_id=supervisor.pk,
        cosigner_name="Morgan Testsuper",
        cosigner_credential="LCSW",
        cosigner_licence=supervisor.licence_number,
        cosigned_at=note.cosigned_at,
    )
    assert AuditEvent.objects.filter(action=Action.COSIGN, object_id=str(note.pk)).count() == 1


def test_cosign_hash_is_documented_sha256_of_content_and_cosigner():
    at = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    expected = hashlib.sha256(
        "\n".join(
            ["crisisnotes-cosign-v1", "abc", "7", "Ann Other", "LCSW", "L-1", at.isoformat()]
        ).encode()
    ).hexdigest()
    assert (
        cosign_hash_compute(
            content_hash="abc",
            cosigner_id=7,
            cosigner_name="Ann Other",
            cosigner_credential="LCSW",
            cosigner_licence="L-1",
            cosigned_at=at,
        )
        == expected
    )


def test_cosigned_note_is_immutable_at_the_database(supervisor, trainee):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    note_cosign(note=note, supervisor=supervisor)
    with pytest.raises(IntegrityError), transaction.atomic():
        CrisisSession.objects.filter(pk=note.pk).update(status=NoteStatus.DRAFT)


def test_cosign_notifies_the_author_once_in_app_and_by_email(
    supervisor, trainee, django_capture_on_commit_callbacks
):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    # E-mails leave on commit: each `with` block stands for one committed request.
    with django_capture_on_commit_callbacks(execute=True):
        note_cosign(note=note, supervisor=supervisor)
    with pytest.raises(ReviewError), django_capture_on_commit_callbacks(execute=True):
        note_cosign(note=note, supervisor=supervisor)

    notifications = Notification.objects.filter(recipient=trainee)
    assert [n.event_key for n in notifications] == [f"note:{note.pk}:cosigned"]
    deliver_queued_email()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [trainee.email]


def test_only_a_note_awaiting_cosign_can_be_cosigned(supervisor, trainee):
    note = NoteFactory.create(author=trainee)
    with pytest.raises(ReviewError, match="not waiting"):
        note_cosign(note=note, supervisor=supervisor)
    note.refresh_from_db()
    assert note.status == NoteStatus.DRAFT


def test_supervisor_of_another_team_cannot_cosign(clinic, trainee):
    other_boss = UserFactory(clinic=clinic, is_supervisor=True)
    TeamFactory(clinic=clinic, name="Day team", supervisor=other_boss)
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    with pytest.raises(ReviewError):
        note_cosign(note=note, supervisor=other_boss)
    assert CrisisSession.objects.get(pk=note.pk).status == NoteStatus.AWAITING_COSIGN


def test_nobody_cosigns_their_own_note(supervisor, team):
    note = NoteFactory.create(
        awaiting_cosign=True,
        author=supervisor,
        cosign_required_reason="Clinician level below the screen.",
    )
    with pytest.raises(ReviewError):
        note_cosign(note=note, supervisor=supervisor)


def test_return_makes_an_editable_draft_without_the_authors_signature(supervisor, trainee):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    version = note.version

    comments = note_return(
        note=note,
        supervisor=supervisor,
        comments=[("problem_solving", "Name the action plan's first step."), ("", "Thanks.")],
    )

    note.refresh_from_db()
    assert note.status == NoteStatus.DRAFT
    assert (note.signed_by, note.signed_at, note.signer_name, note.content_hash) == (
        None,
        None,
        "",
        "",
    )
    assert note.cosign_required_reason == ""
    assert note.version == version + 1
    assert [(c.section_key, c.text, c.round) for c in comments] == [
        ("problem_solving", "Name the action plan's first step.", 1),
        ("", "Thanks.", 1),
    ]
    assert all(c.author_name == "Morgan Testsuper" for c in comments)
    assert AuditEvent.objects.filter(action=Action.RETURN, object_id=str(note.pk)).count() == 1
    # Back in draft, the author can edit again: the stage rows are no longer frozen.
    CrisisSession.objects.filter(pk=note.pk).update(confidentiality_explained=True)


def test_return_needs_at_least_one_comment_and_changes_nothing_without(supervisor, trainee):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    with pytest.raises(ReviewError, match="at least one comment"):
        note_return(note=note, supervisor=supervisor, comments=[("problem_solving", "  ")])
    note.refresh_from_db()
    assert note.status == NoteStatus.AWAITING_COSIGN
    assert ReviewComment.objects.count() == 0
    assert Notification.objects.count() == 0


def test_return_refuses_a_comment_on_an_unknown_section(supervisor, trainee):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    with pytest.raises(ReviewError, match="no section"):
        note_return(note=note, supervisor=supervisor, comments=[("nonsense", "Fix it.")])
    assert CrisisSession.objects.get(pk=note.pk).status == NoteStatus.AWAITING_COSIGN


def test_each_return_is_a_new_round_notified_once(
    supervisor, trainee, django_capture_on_commit_callbacks
):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    with django_capture_on_commit_callbacks(execute=True):
        note_return(note=note, supervisor=supervisor, comments=[("", "First look.")])
    # The author signs again (what note_sign does), and the supervisor returns it once more.
    CrisisSession.objects.filter(pk=note.pk).update(
        status=NoteStatus.AWAITING_COSIGN, content_hash="ab" * 32, signed_by=trainee
    )
    with django_capture_on_commit_callbacks(execute=True):
        note_return(note=note, supervisor=supervisor, comments=[("", "Second look.")])
    with pytest.raises(ReviewError):  # a double click: the note is a draft now
        note_return(note=note, supervisor=supervisor, comments=[("", "Second look.")])

    assert list(ReviewComment.objects.values_list("round", "text")) == [
        (1, "First look."),
        (2, "Second look."),
    ]
    keys = sorted(
        Notification.objects.filter(recipient=trainee).values_list("event_key", flat=True)
    )
    assert keys == [f"note:{note.pk}:returned:1", f"note:{note.pk}:returned:2"]
    deliver_queued_email()
    assert len(mail.outbox) == 2


def test_review_comments_are_append_only(supervisor, trainee):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    [comment] = note_return(note=note, supervisor=supervisor, comments=[("", "Keep me.")])
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewComment.objects.filter(pk=comment.pk).update(text="Changed")
    with pytest.raises(IntegrityError), transaction.atomic():
        ReviewComment.objects.filter(pk=comment.pk).delete()


@pytest.mark.django_db(transaction=True)
def test_cosign_and_return_at_once_leave_exactly_one_decision(supervisor, trainee):
    """Two tabs: one co-signs while the other returns. The row lock serialises them and the
    second sees the first decision and refuses, so the note is never both."""
    import threading

    from django.db import connection

    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def decide(action):
        try:
            barrier.wait()
            action()
            outcomes.append("done")
        except ReviewError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [
        threading.Thread(
            target=decide, args=(lambda: note_cosign(note=note, supervisor=supervisor),)
        ),
        threading.Thread(
            target=decide,
            args=(lambda: note_return(note=note, supervisor=supervisor, comments=[("", "No.")]),),
        ),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert sorted(outcomes) == ["done", "refused"]
    note.refresh_from_db()
    returned = ReviewComment.objects.filter(session=note).exists()
    assert (note.status, returned) in {(NoteStatus.SIGNED, False), (NoteStatus.DRAFT, True)}
    assert Notification.objects.filter(recipient=trainee).count() == 1


@pytest.mark.parametrize(
    ("texts", "phrase"),
    [(["Add a time to the plan."], "with 1 comment."), (["One.", "Two."], "with 2 comments.")],
)
def test_return_notification_counts_comments_in_plain_english(supervisor, trainee, texts, phrase):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    note_return(note=note, supervisor=supervisor, comments=[("", t) for t in texts])

    message = Notification.objects.get(recipient=trainee).message
    assert phrase in message
    assert "(s)" not in message
    summary = AuditEvent.objects.get(action=Action.RETURN).summary
    assert phrase.removesuffix(".") in summary
    assert "(s)" not in summary
