"""Follow-up tasks: creation with the clinic's defaults, attempts, closing, and the beat scan's
reminders and escalations (each exactly once, also under concurrent scans)."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import cast

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import Action, AuditEvent
from crisisnotes.notifications.models import Notification, OutgoingEmail
from crisisnotes.notifications.services import _notification_email
from sessions.models import CrisisSession, FollowUpAlert, FollowUpTask
from sessions.models.followups import FollowUpAlertKind, FollowUpOutcome
from sessions.services import followups
from sessions.services.followups import (
    FollowUpError,
    followup_attempt_log,
    followup_close,
    followup_default_due,
    followup_scan,
    followup_task_create,
)
from tests.factories import CrisisSessionFactory, FollowUpTaskFactory, UserFactory
from tests.mail import deliver_queued_email

pytestmark = pytest.mark.django_db


@pytest.fixture
def note(counselor):
    ended = timezone.now() - timedelta(minutes=10)
    return CrisisSessionFactory(
        clinic=counselor.clinic,
        author=counselor,
        started_at=ended - timedelta(minutes=50),
        ended_at=ended,
        clinician_risk="high",
    )


def test_high_risk_default_is_due_hours_after_the_session_ended(note, counselor):
    task = followup_task_create(actor=counselor, note=note, assigned_to=counselor, method="call")
    assert task.due_at == note.ended_at + timedelta(hours=24)
    assert task.client_id == note.client_id and task.clinic_id == note.clinic_id
    assert AuditEvent.objects.filter(action=Action.CREATE, object_id=str(task.pk)).exists()


def test_moderate_default_uses_the_clinic_setting(note, clinic):
    clinic.followup_due_hours_moderate = 48
    clinic.save()
    note.clinician_risk = "moderate"
    assert followup_default_due(note=note) == note.ended_at + timedelta(hours=48)


def test_low_risk_needs_an_explicit_due_time(note, counselor):
    note.clinician_risk = "low"
    with pytest.raises(FollowUpError, match="due time"):
        followup_task_create(actor=counselor, note=note, assigned_to=counselor, method="call")
    due = timezone.now() + timedelta(days=3)
    task = followup_task_create(
        actor=counselor, note=note, assigned_to=counselor, method="text", due_at=due
    )
    assert task.due_at == due


def test_task_cannot_be_assigned_outside_the_clinic(note, counselor, outsider):
    with pytest.raises(FollowUpError):
        followup_task_create(actor=counselor, note=note, assigned_to=outsider, method="call")
    assert not FollowUpTask.objects.exists()


def test_no_answer_keeps_the_task_open_and_reaching_the_client_closes_it(counselor):
    task = FollowUpTaskFactory(session__clinic=counselor.clinic, assigned_to=counselor)
    followup_attempt_log(actor=counselor, task=task, method="call", outcome="no_answer")
    task.refresh_from_db()
    assert task.is_open
    followup_attempt_log(actor=counselor, task=task, method="text", outcome="reached_safe")
    task.refresh_from_db()
    assert not task.is_open and task.outcome == FollowUpOutcome.REACHED_SAFE
    assert task.attempts.count() == 2
    with pytest.raises(FollowUpError, match="closed"):
        followup_attempt_log(actor=counselor, task=task, method="call", outcome="no_answer")


def test_attempts_stop_at_the_clinic_maximum(counselor, clinic):
    clinic.followup_max_attempts = 2
    clinic.save()
    task = FollowUpTaskFactory(session__clinic=clinic, assigned_to=counselor)
    for _ in range(2):
        followup_attempt_log(actor=counselor, task=task, method="call", outcome="no_answer")
    with pytest.raises(FollowUpError, match="All 2 attempts"):
        followup_attempt_log(actor=counselor, task=task, method="call", outcome="no_answer")
    followup_close(actor=counselor, task=task, outcome="no_answer", notes="Unreachable")
    task.refresh_from_db()
    assert task.closed_by == counselor and task.outcome_notes == "Unreachable"


# --- the scan ---------------------------------------------------------------------------------


def _listed(message) -> list[str]:
    """The notification messages an e-mail tells of: its first paragraph, one per line ("- "
    each) when it tells of several."""
    listing = message.body.split("\n\nOpen crisisnotes")[0]
    if message.subject.endswith(" new notifications"):
        return [line.removeprefix("- ") for line in listing.split("\n")]
    return [listing]


def _assert_each_notification_mailed_once() -> None:
    """Every notification is told of in exactly one e-mail, to its own recipient, and every
    e-mail tells of at least one: sends the queued e-mails first."""
    deliver_queued_email()
    told: dict[tuple[str, str], int] = {}
    for message in mail.outbox:
        for line in _listed(message):
            told[(message.to[0], line)] = told.get((message.to[0], line), 0) + 1
    notifications = Notification.objects.select_related("recipient")
    expected = {(n.recipient.email, n.message): 1 for n in notifications}
    assert told == expected
    assert len(mail.outbox) == OutgoingEmail.objects.count()
    assert not notifications.filter(email__isnull=True).exists()


def _task(counselor, *, due_in: timedelta) -> FollowUpTask:
    return FollowUpTaskFactory(
        session__clinic=counselor.clinic,
        session__author=counselor,
        assigned_to=counselor,
        due_at=timezone.now() + due_in,
    )


def test_task_not_yet_within_the_lead_time_gets_nothing(counselor):
    _task(counselor, due_in=timedelta(hours=3))
    assert followup_scan().reminders == 0
    assert not Notification.objects.exists()


def test_due_task_gets_exactly_one_reminder_in_app_and_by_email(
    counselor, django_capture_on_commit_callbacks, eager_tasks
):
    task = _task(counselor, due_in=timedelta(minutes=30))
    with django_capture_on_commit_callbacks(execute=True):
        assert followup_scan().reminders == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert followup_scan().reminders == 0
    notification = Notification.objects.get(recipient=counselor)
    assert notification.event_key == f"followup:{task.pk}:reminder"
    deliver_queued_email()
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [counselor.email]
    # The e-mail names no client.
    assert task.client.alias not in mail.outbox[0].body
    alert = FollowUpAlert.objects.get(task=task)
    assert alert.kind == FollowUpAlertKind.REMINDER and alert.recipient == counselor
    assert alert.sent_at is not None


def test_escalation_goes_once_to_the_supervisor_after_the_grace_period(counselor, supervisor):
    task = _task(counselor, due_in=timedelta(minutes=30))
    followup_scan()
    # Due, but within the 4 h grace period: no escalation yet.
    with time_machine.travel(timezone.now() + timedelta(hours=4), tick=False):
        assert followup_scan().escalations == 0
    with time_machine.travel(timezone.now() + timedelta(hours=4, minutes=31), tick=False):
        assert followup_scan().escalations == 1
        assert followup_scan().escalations == 0
    escalation = FollowUpAlert.objects.get(task=task, kind=FollowUpAlertKind.ESCALATION)
    assert escalation.recipient == supervisor
    assert (
        Notification.objects.filter(
            recipient=supervisor, event_key=f"followup:{task.pk}:escalation"
        ).count()
        == 1
    )
    assert AuditEvent.objects.filter(action=Action.NOTIFY, object_id=str(task.pk)).count() == 2


def test_closed_task_is_neither_reminded_nor_escalated(counselor, supervisor):
    task = _task(counselor, due_in=timedelta(hours=-10))
    followup_close(actor=counselor, task=task, outcome="reached_safe")
    result = followup_scan()
    assert (result.reminders, result.escalations) == (0, 0)


def test_escalation_without_a_supervisor_is_recorded_for_nobody(clinic):
    loner = UserFactory(clinic=clinic)
    task = _task(loner, due_in=timedelta(hours=-10))
    assert followup_scan().escalations == 1
    assert FollowUpAlert.objects.get(task=task, kind="escalation").recipient is None


def test_scan_query_count_does_not_grow_with_quiet_tasks(counselor, django_assert_max_num_queries):
    for _ in range(20):
        _task(counselor, due_in=timedelta(days=2))
    # The clinics, then for each walk (reminders, escalations) its SET LOCAL jit and one batch.
    with django_assert_max_num_queries(5):
        followup_scan()


@pytest.mark.django_db(transaction=True)
def test_concurrent_scans_send_each_alert_exactly_once(counselor, supervisor, eager_tasks):
    """Six scans at once, each on its own database connection (as two beats and several
    workers would be): one reminder and one escalation per task, however they interleave."""
    tasks = [_task(counselor, due_in=timedelta(hours=-5)) for _ in range(5)]
    barrier = threading.Barrier(6)
    errors: list[BaseException] = []
    totals: list[tuple[int, int]] = []

    def scan() -> None:
        try:
            barrier.wait(timeout=10)
            result = followup_scan()
            totals.append((result.reminders, result.escalations))
        except BaseException as exc:  # reported below, with the thread's own error
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    assert sum(r for r, _ in totals) == 5
    assert sum(e for _, e in totals) == 5
    for task in tasks:
        assert FollowUpAlert.objects.filter(task=task).count() == 2
    assert Notification.objects.filter(recipient=counselor).count() == 5
    assert Notification.objects.filter(recipient=supervisor).count() == 5
    _assert_each_notification_mailed_once()


def test_alert_messages_name_the_method_time_and_zone_but_no_client(counselor, supervisor):
    task = _task(counselor, due_in=timedelta(hours=-10))
    followup_scan()
    due = timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M")
    reminder = Notification.objects.get(recipient=counselor)
    assert reminder.message == f"Follow-up {task.pk} (call) is due at {due} (UTC)."
    assert reminder.url == reverse("crisis_sessions:my_work")
    escalation = Notification.objects.get(recipient=supervisor)
    assert escalation.url == reverse("crisis_sessions:dashboard")
    assert escalation.message == (
        f"Follow-up {task.pk} assigned to Robin Testcase was due at {due} (UTC) and is still open."
    )
    summaries = set(
        AuditEvent.objects.filter(action=Action.NOTIFY, object_id=str(task.pk)).values_list(
            "summary", "actor_username", "object_type"
        )
    )
    assert summaries == {
        ("Follow-up reminder to Robin Testcase", "scheduler", "crisis_sessions.followuptask"),
        ("Follow-up escalation to Morgan Testsuper", "scheduler", "crisis_sessions.followuptask"),
    }
    assert task.client.alias not in reminder.message + escalation.message


@pytest.mark.parametrize("statement", ["one statement", "portable"])
def test_a_walk_takes_the_backlog_in_due_order_batch_after_batch(
    counselor, supervisor, monkeypatch, statement
):
    """Batches of 3 over 11 due tasks whose ids run against their due times, four of them due
    at the same instant (a tie across batch boundaries) and one already reminded: each batch
    starts right after the last task the batch before claimed, in (due_at, id) order, and every
    task gets its one reminder and one escalation — on PostgreSQL's one statement and on the
    portable statements SQLite runs."""
    if statement == "one statement" and connection.vendor != "postgresql":
        pytest.skip("the one statement is PostgreSQL's")
    now = timezone.now()
    tie = now - timedelta(hours=20)
    dues = [now - timedelta(hours=10 + i) for i in range(7)] + [tie] * 4
    tasks = [
        cast(
            FollowUpTask,
            FollowUpTaskFactory(
                session__clinic=counselor.clinic,
                session__author=counselor,
                assigned_to=counselor,
                due_at=due,
            ),
        )
        for due in dues
    ]
    FollowUpAlert.objects.create(task=tasks[3], kind="reminder", recipient=counselor, sent_at=now)
    starts: dict[str, list[tuple]] = {"reminder": [], "escalation": []}
    batch = (
        followups._alerts_batch_portable if statement == "portable" else followups._alerts_batch_pg
    )

    def recording(**kwargs):
        if kwargs["clinic"] == counselor.clinic:
            starts[kwargs["kind"]].append(kwargs["after"])
        return batch(**kwargs)

    # Whichever the database's vendor picks, the walk runs the statement asked for.
    monkeypatch.setattr(followups, "_alerts_batch_pg", recording)
    monkeypatch.setattr(followups, "_alerts_batch_portable", recording)
    result = followup_scan(now=now, batch_size=3, parallel=1)

    assert (result.reminders, result.escalations) == (10, 11)
    keys = sorted((t.due_at, t.pk) for t in tasks)
    unreminded = [key for key in keys if key[1] != tasks[3].pk]
    start = followups._WALK_START
    assert starts["reminder"] == [start, unreminded[2], unreminded[5], unreminded[8]]
    assert starts["escalation"] == [start, keys[2], keys[5], keys[8]]
    for task in tasks:
        assert FollowUpAlert.objects.filter(task=task).count() == 2
    assert Notification.objects.filter(recipient=counselor).count() == 10


@pytest.mark.django_db(transaction=True)
def test_concurrent_scans_at_scale_claim_every_alert_once(counselor, supervisor, eager_tasks):
    """Fifteen hundred due follow-ups, batches smaller than the backlog, three scans racing on
    their own connections: every task gets exactly one reminder and one escalation, one
    notification each, one audit row each, and is told of in exactly one e-mail."""
    note = cast(CrisisSession, CrisisSessionFactory(clinic=counselor.clinic, author=counselor))
    due = timezone.now() - timedelta(hours=10)
    FollowUpTask.objects.bulk_create(
        FollowUpTask(
            clinic=counselor.clinic,
            session=note,
            client=note.client,
            assigned_to=counselor,
            due_at=due,
            method="call",
        )
        for _ in range(1500)
    )
    barrier = threading.Barrier(3)
    errors: list[BaseException] = []
    totals: list[tuple[int, int]] = []

    def scan() -> None:
        try:
            barrier.wait(timeout=10)
            result = followup_scan(batch_size=400)
            totals.append((result.reminders, result.escalations))
        except BaseException as exc:  # reported below, with the thread's own error
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=scan) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert not any(t.is_alive() for t in threads), f"scans still running after 300 s: {totals}"
    assert not errors, errors
    assert sum(r for r, _ in totals) == 1500
    assert sum(e for _, e in totals) == 1500
    assert FollowUpAlert.objects.count() == 3000
    assert Notification.objects.filter(recipient=counselor).count() == 1500
    assert Notification.objects.filter(recipient=supervisor).count() == 1500
    assert AuditEvent.objects.filter(action=Action.NOTIFY).count() == 3000
    # One e-mail per recipient and batch, each alert told of once (eager_tasks sent them).
    assert len(mail.outbox) == OutgoingEmail.objects.count() < 100
    _assert_each_notification_mailed_once()


@pytest.mark.parametrize("statement", ["one statement", "portable"])
def test_a_batch_mails_each_recipient_once_listing_their_alerts(
    counselor, teammate, supervisor, monkeypatch, statement
):
    """Three reminders for one counselor in a batch are one e-mail listing them in the order
    they were made; a counselor with one reminder gets the e-mail `notification_send` writes
    (the same text, built by the database); the supervisor's four escalations are one e-mail;
    a user without an address gets the notification and no e-mail."""
    if statement == "one statement" and connection.vendor != "postgresql":
        pytest.skip("the one statement is PostgreSQL's")
    if statement == "portable":
        monkeypatch.setattr(followups, "_alerts_batch_pg", followups._alerts_batch_portable)
    else:
        monkeypatch.setattr(followups, "_alerts_batch_portable", followups._alerts_batch_pg)
    no_address = cast(User, UserFactory(clinic=counselor.clinic, team=counselor.team, email=""))
    mine = [_task(counselor, due_in=timedelta(hours=-6 - i)) for i in range(3)]
    theirs = _task(teammate, due_in=timedelta(hours=-6))
    unmailed = _task(no_address, due_in=timedelta(hours=-6))
    followup_scan(parallel=1)

    deliver_queued_email()
    by_recipient = {m.to[0]: m for m in mail.outbox}
    assert len(mail.outbox) == len(by_recipient) == 3  # counselor, teammate, supervisor
    site = settings.SITE_URL.rstrip("/")
    reminders = list(Notification.objects.filter(recipient=counselor).order_by("id"))
    assert {n.event_key for n in reminders} == {f"followup:{t.pk}:reminder" for t in mine}
    to_counselor = by_recipient[counselor.email]
    assert to_counselor.subject == "crisisnotes: 3 new notifications"
    assert to_counselor.body == (
        "\n".join(f"- {n.message}" for n in reminders)
        + f"\n\nOpen crisisnotes to see them.\n{site}{reverse('crisis_sessions:my_work')}"
    )
    assert {n.email_id for n in reminders} == {OutgoingEmail.objects.get(recipient=counselor).pk}
    # One home for the text: the same as the Python that writes it.
    assert (to_counselor.subject, to_counselor.body) == _notification_email(
        messages=[n.message for n in reminders],
        urls=[n.url for n in reminders],
        language=counselor.language,
    )

    single = Notification.objects.get(recipient=teammate)
    assert single.event_key == f"followup:{theirs.pk}:reminder"
    to_teammate = by_recipient[teammate.email]
    assert (to_teammate.subject, to_teammate.body) == _notification_email(
        messages=[single.message], urls=[single.url], language=teammate.language
    )
    assert to_teammate.subject == f"crisisnotes: {single.message[:80]}"

    escalations = list(Notification.objects.filter(recipient=supervisor).order_by("id"))
    assert len(escalations) == 5
    to_supervisor = by_recipient[supervisor.email]
    assert to_supervisor.subject == "crisisnotes: 5 new notifications"
    assert _listed(to_supervisor) == [n.message for n in escalations]
    assert to_supervisor.body.endswith(f"\n{site}{reverse('crisis_sessions:dashboard')}")

    unmailed_notice = Notification.objects.get(event_key=f"followup:{unmailed.pk}:reminder")
    assert unmailed_notice.recipient == no_address and unmailed_notice.email is None
    assert not OutgoingEmail.objects.filter(recipient=no_address).exists()


@pytest.mark.parametrize("statement", ["one statement", "portable"])
def test_alerts_and_their_emails_are_in_each_recipients_language(
    counselor, teammate, supervisor, monkeypatch, statement
):
    """A notification and its e-mail are read later by one person: the scan writes each in its
    recipient's interface language (docs/i18n.md), picked row by row in the one statement, the
    English default for a user who chose none — the same text Python writes."""
    if statement == "one statement" and connection.vendor != "postgresql":
        pytest.skip("the one statement is PostgreSQL's")
    if statement == "portable":
        monkeypatch.setattr(followups, "_alerts_batch_pg", followups._alerts_batch_portable)
    else:
        monkeypatch.setattr(followups, "_alerts_batch_portable", followups._alerts_batch_pg)
    User.objects.filter(pk__in=[counselor.pk, teammate.pk]).update(language="es")
    call = _task(counselor, due_in=timedelta(hours=-6))
    text = _task(counselor, due_in=timedelta(hours=-7))
    FollowUpTask.objects.filter(pk=text.pk).update(method="text")
    single = _task(teammate, due_in=timedelta(hours=-6))
    followup_scan(parallel=1)

    def due(task: FollowUpTask) -> str:
        return timezone.localtime(task.due_at).strftime("%Y-%m-%d %H:%M")

    assert set(Notification.objects.filter(recipient=counselor).values_list("message")) == {
        (f"El seguimiento {text.pk} (mensaje de texto) vence el {due(text)} (UTC).",),
        (f"El seguimiento {call.pk} (llamada) vence el {due(call)} (UTC).",),
    }
    assert Notification.objects.get(recipient=teammate).message == (
        f"El seguimiento {single.pk} (llamada) vence el {due(single)} (UTC)."
    )
    # The supervisor chose no language: English, in the same batch.
    escalations = Notification.objects.filter(recipient=supervisor)
    assert (
        f"Follow-up {text.pk} assigned to Robin Testcase was due at {due(text)} (UTC) and is "
        "still open."
    ) in {n.message for n in escalations}

    deliver_queued_email()
    by_recipient = {m.to[0]: m for m in mail.outbox}
    site = settings.SITE_URL.rstrip("/")
    to_counselor = by_recipient[counselor.email]
    assert to_counselor.subject == "crisisnotes: 2 notificaciones nuevas"
    assert to_counselor.body.endswith(f"\n\nAbra crisisnotes para verlas.\n{site}/work/")
    to_teammate = by_recipient[teammate.email]
    assert to_teammate.body.endswith(f"\n\nAbra crisisnotes para verla.\n{site}/work/")
    assert by_recipient[supervisor.email].subject == "crisisnotes: 3 new notifications"
    for user in (counselor, teammate, supervisor):
        user.refresh_from_db()
        mine = Notification.objects.filter(recipient=user).order_by("id")
        sent = by_recipient[user.email]
        assert (sent.subject, sent.body) == _notification_email(
            messages=[n.message for n in mine], urls=[n.url for n in mine], language=user.language
        )
