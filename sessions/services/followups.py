"""Follow-up tasks (CLINICAL.md §6): created from a session, attempts logged, closed with an
outcome; and the scan that beat runs every minute to remind counselors and escalate to
supervisors, each exactly once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection, connections, transaction
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from crisisnotes.accounts.models import Clinic, Role, Team, User
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_insert_sql, audit_record, audit_record_from_select
from crisisnotes.errors import DomainError
from crisisnotes.notifications.services import (
    notifications_create_from_select,
    notifications_emails_enqueue,
    notifications_insert_cte,
)
from crisisnotes.notifications.texts import SqlText, text_in_recipient_language_sql
from sessions.models import CrisisSession, FollowUpAlert, FollowUpAttempt, FollowUpTask
from sessions.models.followups import FollowUpAlertKind, FollowUpMethod, FollowUpOutcome
from sessions.models.notes import ContactType, Modality, RiskLevel

logger = logging.getLogger(__name__)


class FollowUpError(DomainError):
    """The follow-up task could not be changed as asked; the message says why."""


def followup_default_due(*, note: CrisisSession, now: datetime | None = None) -> datetime | None:
    """Due time the clinic's policy sets for a note's risk: high → followup_due_hours_high
    after the session ended (or now, if it has not), moderate → followup_due_hours_moderate,
    otherwise none (a follow-up for low risk is optional)."""
    clinic = note.clinic
    hours = {
        RiskLevel.HIGH: clinic.followup_due_hours_high,
        RiskLevel.MODERATE: clinic.followup_due_hours_moderate,
    }.get(note.risk_level)  # type: ignore[call-overload]
    if hours is None:
        return None
    start = note.ended_at or now or timezone.now()
    return start + timedelta(hours=hours)


def _check_assignee(*, clinic: Clinic, assignee: User) -> None:
    if assignee.clinic_id != clinic.pk or not assignee.is_active:
        raise FollowUpError(_("Follow-ups can only be assigned to an active colleague."))
    if not assignee.has_role(Role.COUNSELOR):
        raise FollowUpError(_("%(name)s is not a counselor.") % {"name": assignee.display_name})


@transaction.atomic
def followup_task_create(
    *,
    actor: User,
    note: CrisisSession,
    assigned_to: User,
    method: str,
    due_at: datetime | None = None,
    purpose: str = "",
    request: HttpRequest | None = None,
) -> FollowUpTask:
    """Add a follow-up task to a session, assigned to an active counselor of the note's clinic.
    Without `due_at` the clinic's default for the note's risk applies; a low-risk task needs an
    explicit due time."""
    if actor.clinic_id != note.clinic_id:
        raise FollowUpError(_("This note belongs to another clinic."))
    _check_assignee(clinic=note.clinic, assignee=assigned_to)
    due_at = due_at or followup_default_due(note=note)
    if due_at is None:
        raise FollowUpError(_("Give a due time: the note's risk level sets no default."))
    if due_at < note.started_at:
        started = timezone.localtime(note.started_at).strftime("%Y-%m-%d %H:%M")
        raise FollowUpError(
            _("A follow-up cannot be due before the session (it started %(started)s).")
            % {"started": started}
        )
    task = FollowUpTask.objects.create(
        clinic=note.clinic,
        session=note,
        client_id=note.client_id,  # the id only: no read of the client row for it
        assigned_to=assigned_to,
        due_at=due_at,
        method=method,
        purpose=purpose,
        created_by=actor,
    )
    audit_record(
        action=Action.CREATE,
        actor=actor,
        request=request,
        obj=task,
        summary=f"Follow-up due {due_at:%Y-%m-%d %H:%M} assigned to {assigned_to.display_name}",
    )
    return task


def _locked_open_task(task_id: int) -> FollowUpTask:
    # Row lock: two tabs logging the fifth attempt at once must not both get in.
    task = FollowUpTask.objects.select_for_update().select_related("clinic").get(pk=task_id)
    if not task.is_open:
        raise FollowUpError(_("This follow-up is already closed."))
    return task


@transaction.atomic
def followup_attempt_log(
    *,
    actor: User,
    task: FollowUpTask,
    method: str,
    outcome: str,
    notes: str = "",
    attempted_at: datetime | None = None,
    request: HttpRequest | None = None,
) -> FollowUpAttempt:
    """Log one attempt on an open task, at most clinic.followup_max_attempts of them. An attempt
    that reached the client (safe or needing help), was declined or escalated closes the task
    with that outcome; "no answer" leaves it open for the next try."""
    task = _locked_open_task(task.pk)
    if actor.clinic_id != task.clinic_id:
        raise FollowUpError(_("This follow-up belongs to another clinic."))
    limit = task.clinic.followup_max_attempts
    if task.attempts.count() >= limit:
        raise FollowUpError(
            _("All %(limit)d attempts are logged; close the follow-up with its final outcome.")
            % {"limit": limit}
        )
    attempt = FollowUpAttempt.objects.create(
        task=task,
        attempted_at=attempted_at or timezone.now(),
        method=method,
        outcome=outcome,
        notes=notes,
        by=actor,
    )
    if outcome != FollowUpOutcome.NO_ANSWER:
        _close(task=task, actor=actor, outcome=outcome, notes="")
    audit_record(
        action=Action.UPDATE,
        actor=actor,
        request=request,
        obj=task,
        summary=f"Follow-up attempt: {attempt.get_outcome_display()}",
    )
    return attempt


def _close(*, task: FollowUpTask, actor: User, outcome: str, notes: str) -> None:
    task.outcome = outcome
    task.outcome_notes = notes
    task.closed_at = timezone.now()
    task.closed_by = actor
    task.save(update_fields=["outcome", "outcome_notes", "closed_at", "closed_by"])


@transaction.atomic
def followup_close(
    *,
    actor: User,
    task: FollowUpTask,
    outcome: str,
    notes: str = "",
    request: HttpRequest | None = None,
) -> FollowUpTask:
    """Close an open task with its final outcome; a closed task gets no more reminders."""
    task = _locked_open_task(task.pk)
    if actor.clinic_id != task.clinic_id:
        raise FollowUpError(_("This follow-up belongs to another clinic."))
    if outcome not in FollowUpOutcome.values:
        raise FollowUpError(_("Choose the final outcome."))
    _close(task=task, actor=actor, outcome=outcome, notes=notes)
    audit_record(
        action=Action.UPDATE,
        actor=actor,
        request=request,
        obj=task,
        summary=f"Follow-up closed: {task.get_outcome_display()}",
    )
    return task


_CONTACT_METHOD = {
    Modality.PHONE: FollowUpMethod.CALL,
    Modality.VIDEO: FollowUpMethod.CALL,
    Modality.TEXT: FollowUpMethod.TEXT,
    Modality.CHAT: FollowUpMethod.TEXT,
    Modality.IN_PERSON: FollowUpMethod.VISIT,
    Modality.MOBILE: FollowUpMethod.VISIT,
}


def followup_contact_record(
    *, note: CrisisSession, actor: User, request: HttpRequest | None = None
) -> FollowUpAttempt | None:
    """A signed follow-up contact (CLINICAL.md §11) updates the task it answers: its outcome is
    logged as an attempt at the session's time (closing the task unless "no answer"), once —
    signing is the moment the contact becomes record. Nothing happens for other contact types,
    a task already closed, or a contact already logged on it."""
    if note.contact_type != ContactType.FOLLOW_UP or note.is_draft:
        return None
    if not note.answers_task_id or not note.followup_outcome:
        return None
    marker = f"Follow-up contact, session #{note.pk}"
    task = FollowUpTask.objects.get(pk=note.answers_task_id)
    if not task.is_open or task.attempts.filter(notes__startswith=marker).exists():
        return None
    try:
        return followup_attempt_log(
            actor=actor,
            task=task,
            method=_CONTACT_METHOD.get(Modality(note.modality), FollowUpMethod.CALL),
            outcome=note.followup_outcome,
            notes=marker,
            attempted_at=note.started_at,
            request=request,
        )
    except FollowUpError:
        # Every attempt is used up: the contact's outcome closes the task instead.
        if note.followup_outcome != FollowUpOutcome.NO_ANSWER:
            followup_close(
                actor=actor, task=task, outcome=note.followup_outcome, notes=marker, request=request
            )
        return None


# --- reminders and escalations ---------------------------------------------------------------

# How many alerts one statement claims. Each batch is its own short transaction, so a scan that
# is killed mid-way keeps what it committed and the next scan claims the rest.
SCAN_BATCH_SIZE = 5000
# How many (clinic, kind) walks run at once on their own connections (see followup_scan).
SCAN_PARALLEL = 2


@dataclass
class ScanResult:
    reminders: int = 0
    escalations: int = 0


def followup_scan(
    *,
    now: datetime | None = None,
    batch_size: int = SCAN_BATCH_SIZE,
    parallel: int = SCAN_PARALLEL,
) -> ScanResult:
    """Remind and escalate from what the database says, so nothing depends on a queue.

    An open task due within its clinic's reminder lead time gets one reminder to its counselor;
    one still open past due + grace gets one escalation to the team's supervisor. Alerts are
    claimed a batch at a time by one `INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING` on the
    unique (task, kind) index: a concurrent or repeated scan waits for the first claim to commit
    and then inserts nothing for those tasks, and only the rows a scan inserted get their
    notification and audit row, in the same transaction. So every alert is sent exactly once
    however many scans run (two beats, a retried task, a killed worker), and the cost is a few
    statements per batch rather than a transaction per alert. On PostgreSQL the claim, the
    notifications, their outbox rows and the audit rows are ONE statement per batch (data-
    modifying common table expressions); SQLite runs the same SELECTs as four statements.

    The walks (one per clinic and kind) are independent, so on PostgreSQL and outside a
    transaction (the beat's task) up to `parallel` of them run at once, each on its own
    database connection: the work is the database server's, and this lets it use more than one
    core. Called inside a transaction (a caller's atomic block, a test) the walks run one after
    another in it, as they must to see its rows."""
    now = now or timezone.now()
    walks = [
        (clinic, kind, due_before)
        for clinic in Clinic.objects.all()
        for kind, due_before in (
            (
                FollowUpAlertKind.REMINDER,
                now + timedelta(minutes=clinic.followup_reminder_lead_minutes),
            ),
            (FollowUpAlertKind.ESCALATION, now - timedelta(hours=clinic.followup_grace_hours)),
        )
    ]
    threaded = (
        parallel > 1
        and len(walks) > 1
        and connection.vendor == "postgresql"
        and not connection.in_atomic_block
    )
    if threaded:
        with ThreadPoolExecutor(max_workers=min(parallel, len(walks))) as pool:
            counts = list(
                pool.map(
                    lambda walk: _walk_on_own_connection(
                        walk[0], walk[1], walk[2], now, batch_size
                    ),
                    walks,
                )
            )
    else:
        counts = [
            _walk(clinic, kind, due_before, now, batch_size) for clinic, kind, due_before in walks
        ]
    result = ScanResult()
    for (_clinic, kind, _due_before), claimed in zip(walks, counts, strict=True):
        if kind == FollowUpAlertKind.REMINDER:
            result.reminders += claimed
        else:
            result.escalations += claimed
    return result


def _walk_on_own_connection(
    clinic: Clinic, kind: str, due_before: datetime, now: datetime, batch_size: int
) -> int:
    try:
        return _walk(clinic, kind, due_before, now, batch_size)
    finally:
        connections.close_all()  # this thread's connections only (they are per thread)


# Where a walk is: the (due_at, id) of the last task it passed. A walk takes tasks in the order
# of followup_open_due_idx (clinic, due_at, id) WHERE closed_at IS NULL, so each batch reads the
# index on from there and stops after its `limit` rows. Taken in id order, every batch read and
# sorted the whole rest of the backlog (≈ 100,000 rows, then 95,000, …) to keep 5,000.
WalkPosition = tuple[datetime, int]
_WALK_START: WalkPosition = (datetime(1, 1, 1, tzinfo=UTC), 0)


def _position_params(after: WalkPosition) -> list[Any]:
    """The position as parameters of the claim's raw SQL, its time as the backend stores one
    (on SQLite, text that compares in order with the stored column; an aware datetime's text
    would carry a zone suffix and sort after an equal stored time, skipping a tie)."""
    due_at, task_id = after
    return [connection.ops.adapt_datetimefield_value(due_at), task_id]


def _walk(clinic: Clinic, kind: str, due_before: datetime, now: datetime, batch_size: int) -> int:
    """Claim and deliver every due alert of one kind in one clinic, batch after batch; return
    how many were claimed here."""
    batch = _alerts_batch_pg if connection.vendor == "postgresql" else _alerts_batch_portable
    total, after = 0, _WALK_START
    while True:
        # One transaction per batch; no savepoint, as nothing inside is meant to fail and be
        # caught (a conflict is DO NOTHING, not an error).
        with transaction.atomic(savepoint=False):
            claimed, walked, after = batch(
                clinic=clinic,
                kind=kind,
                due_before=due_before,
                now=now,
                limit=batch_size,
                after=after,
            )
        total += claimed
        if walked < batch_size:  # the end of the backlog
            return total


def _alerts_due_sql(*, kind: str) -> str:
    """The next stretch of the walk: up to `limit` of the clinic's open tasks due before
    `due_before` that have no alert of `kind` yet, in (due_at, id) order after the walk's
    position (so a long backlog is walked once, each batch reading only its own stretch of the
    index): the task's id and due_at and the alert's recipient_id. Parameters: clinic id,
    due_before, the position's due_at and id, kind, limit.

    The `NOT EXISTS` is evaluated per task, as one probe of the unique (task, kind) index (or,
    while the table is empty, a scan of nothing): its `OFFSET 0` keeps PostgreSQL from turning
    it into an anti-join it plans from statistics.
    Planned as a join, on an alert table never analyzed (a new install, the bench) PostgreSQL
    guessed a few rows for `kind = …` and compared every due task with every alert of a
    materialized scan: 25 million comparisons, 4 s, in a walk's second batch of 5,000. (The
    claim's `ON CONFLICT` stays the arbiter; this filter keeps a scan with little new from
    trying the whole backlog again, batch by batch.)

    The recipient is the assignee for a reminder and the active supervisor of the assignee's
    team for an escalation (none when the team has none: the alert is still recorded, for
    nobody). Plain SQL that PostgreSQL and SQLite both run."""
    alert_table = FollowUpAlert._meta.db_table
    task_table = FollowUpTask._meta.db_table
    user_table = User._meta.db_table
    team_table = Team._meta.db_table
    if kind == FollowUpAlertKind.REMINDER:
        recipient_sql, joins = "t.assigned_to_id", ""
    else:
        recipient_sql = "s.id"
        joins = (
            f"JOIN {user_table} u ON u.id = t.assigned_to_id "
            f"LEFT JOIN {team_table} tm ON tm.id = u.team_id "
            f"LEFT JOIN {user_table} s ON s.id = tm.supervisor_id AND s.is_active "
        )
    return (
        f"SELECT t.id, t.due_at, {recipient_sql} AS recipient_id FROM {task_table} t {joins}"  # noqa: S608
        "WHERE t.clinic_id = %s AND t.closed_at IS NULL AND t.due_at <= %s "
        "AND (t.due_at, t.id) > (%s, %s) "
        f"AND NOT EXISTS (SELECT 1 FROM {alert_table} a WHERE a.task_id = t.id AND a.kind = %s "
        "LIMIT 1 OFFSET 0) ORDER BY t.due_at, t.id LIMIT %s"
    )


def _alerts_claim_sql(*, due_sql: str) -> str:
    """Insert the alert rows for the due tasks `due_sql` names (a FROM item `d` with the
    columns of `_alerts_due_sql`), returning the task id and recipient of the rows inserted
    here: the claim. Parameters: kind, now. The `WHERE true` lets SQLite parse an upsert on a
    SELECT.

    Every scan inserts in task id order, so two racing scans wait for each other's rows in one
    order and cannot deadlock. Sorting also makes the database read the whole stretch before
    the first insert: read row by row between inserts, the stretch's `NOT EXISTS`, where the
    alert table is scanned rather than probed (empty: a new install), scanned the rows this
    statement had inserted so far, each time."""
    return (
        f"INSERT INTO {FollowUpAlert._meta.db_table} (task_id, kind, recipient_id, sent_at) "  # noqa: S608
        f"SELECT d.id, %s, d.recipient_id, %s FROM {due_sql} WHERE true ORDER BY d.id "
        "ON CONFLICT (task_id, kind) DO NOTHING RETURNING task_id, recipient_id"
    )


def _reminder_text() -> str:
    return _("Follow-up %(task)s (%(method)s) is due at %(due)s (%(zone)s).")


def _escalation_text() -> str:
    return _(
        "Follow-up %(task)s assigned to %(assignee)s was due at %(due)s (%(zone)s) and is still "
        "open."
    )


def _alerts_deliver_selects(
    *, clinic: Clinic, kind: str, alerted_sql: str, now: datetime
) -> tuple[str, list[Any], str, list[Any]]:
    """The SELECTs of the in-app notifications (e-mailed by batches queued after commit) and of
    the audit rows for the alerts in `alerted_sql` (a FROM item named `t` with the claimed
    tasks' id, due_at, method, clinic_id, client_id and assigned_to_id and the alert's
    recipient_id): the notification SELECT with its parameters, then the audit SELECT with its
    parameters.

    The message names no client (it is e-mailed, and e-mail leaves the clinic's systems) and
    says the zone its time is in."""
    user_table = User._meta.db_table

    def method() -> SqlText:  # the task's method, in the branch's language
        whens = " ".join("WHEN %s THEN %s" for _ in FollowUpMethod.choices)
        labels = [part for value, label in FollowUpMethod.choices for part in (value, label)]
        return f"CASE t.method {whens} END", [str(part).lower() for part in labels]

    # Sent from a worker, where no request activated the clinic's zone: the time is shown in
    # the clinic's zone and names it.
    zone = clinic.time_zone
    if connection.vendor == "postgresql":
        due = "to_char(t.due_at AT TIME ZONE %s, 'YYYY-MM-DD HH24:MI')"
    else:  # Django's own SQLite function converts the stored UTC text to the zone.
        due = "substr(django_datetime_trunc('minute', t.due_at, %s, 'UTC'), 1, 16)"
    name = "COALESCE(NULLIF({0}.full_name, ''), {0}.username)"
    values: dict[str, SqlText | Callable[[], SqlText]] = {
        "task": ("CAST(t.id AS TEXT)", []),
        "method": method,
        "due": (due, [zone]),
        "zone": ("%s", [zone]),
        "assignee": (name.format("u"), []),
    }
    kind = FollowUpAlertKind(kind)  # one of two constants, written into the SQL as text
    if kind == FollowUpAlertKind.REMINDER:
        template = _reminder_text
        url = reverse("crisis_sessions:my_work")
        assignee = ""
    else:
        template = _escalation_text
        url = reverse("crisis_sessions:dashboard")
        assignee = f"JOIN {user_table} u ON u.id = t.assigned_to_id "
    # Written in the recipient's language (docs/i18n.md), which each row's CASE picks.
    message, message_params = text_in_recipient_language_sql(
        template, language_column="rl.language", values=values
    )
    notification_sql = (
        f"SELECT t.recipient_id, 'followup:' || CAST(t.id AS TEXT) || ':{kind.value}', "  # noqa: S608
        f"'followup_{kind.value}', {message}, %s, %s FROM {alerted_sql} "
        f"JOIN {user_table} rl ON rl.id = t.recipient_id {assignee}"
    )
    label = kind.label.lower()
    audit_sql = (
        f"SELECT %s, NULL, 'scheduler', t.clinic_id, t.client_id, %s, %s, CAST(t.id AS TEXT), "  # noqa: S608
        f"'Follow-up {label} to ' || COALESCE({name.format('r')}, 'nobody (no supervisor)'), "
        f"NULL, '' FROM {alerted_sql} LEFT JOIN {user_table} r ON r.id = t.recipient_id"
    )
    return (
        notification_sql,
        [*message_params, url, now],
        audit_sql,
        [now, Action.NOTIFY, FollowUpTask._meta.label_lower],
    )


def _alerts_batch_portable(
    *,
    clinic: Clinic,
    kind: str,
    due_before: datetime,
    now: datetime,
    limit: int,
    after: WalkPosition,
) -> tuple[int, int, WalkPosition]:
    """One batch as separate statements (SQLite, which has no data-modifying WITH): the
    stretch of the walk, the claim, then notifications (with their outbox rows) and audit rows
    for the alerts it inserted. Returns how many alerts were claimed, how many tasks the walk
    passed and its new position."""
    due_sql = _alerts_due_sql(kind=kind)
    due_params = [clinic.pk, due_before, *_position_params(after), kind, limit]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT d.id FROM ({due_sql}) d", due_params)  # noqa: S608
        walked = [row[0] for row in cursor.fetchall()]
        if not walked:
            return 0, 0, after
        # The same stretch again (one writer at a time on SQLite: nothing moved in between).
        cursor.execute(_alerts_claim_sql(due_sql=f"({due_sql}) d"), [kind, now, *due_params])
        task_ids = [row[0] for row in cursor.fetchall()]
    last = FollowUpTask.objects.filter(pk=walked[-1]).values_list("due_at", "pk")[0]
    if not task_ids:
        return 0, len(walked), last
    in_claimed = ", ".join(["%s"] * len(task_ids))
    alert_table = FollowUpAlert._meta.db_table
    task_table = FollowUpTask._meta.db_table
    notification_sql, notification_params, audit_sql, audit_params = _alerts_deliver_selects(
        clinic=clinic,
        kind=kind,
        alerted_sql=(
            "(SELECT t.id, t.due_at, t.method, t.clinic_id, t.client_id, t.assigned_to_id, "  # noqa: S608
            f"a.recipient_id FROM {alert_table} a JOIN {task_table} t ON t.id = a.task_id "
            f"WHERE a.kind = %s AND a.task_id IN ({in_claimed})) t"
        ),
        now=now,
    )
    notifications_create_from_select(
        select_sql=notification_sql, params=[*notification_params, kind, *task_ids]
    )
    audit_record_from_select(select_sql=audit_sql, params=[*audit_params, kind, *task_ids])
    return len(task_ids), len(walked), last


def _alerts_batch_pg(
    *,
    clinic: Clinic,
    kind: str,
    due_before: datetime,
    now: datetime,
    limit: int,
    after: WalkPosition,
) -> tuple[int, int, WalkPosition]:
    """The same batch as `_alerts_batch_portable` in ONE PostgreSQL statement: the stretch of
    the walk, the claim, the notifications, their outbox rows and the audit rows are common
    table expressions (the writes data-modifying ones), so no id list travels to Python and
    back and the server parses one statement instead of four. The SELECTs are the same text
    (`_alerts_deliver_selects`), and the same tests run on both.

    The claimed alerts are joined to the task table once (`alerted`), for the notifications
    and the audit rows both, by one primary-key probe per alert whatever the statistics say
    (the `OFFSET 0` keeps PostgreSQL from turning the LATERAL into a join it plans). Three
    plain joins before were each a hash or merge over the whole task table when the statistics
    were good (~0.1 s each under load); joined to the CTE of due rows instead, with no
    statistics at all (a new install, the bench) PostgreSQL took both sides for one row and
    matched 5,000 × 5,000 in a nested loop: 25 million comparisons, 10–13 s a batch."""
    notification_sql, notification_params, audit_sql, audit_params = _alerts_deliver_selects(
        clinic=clinic, kind=kind, alerted_sql="alerted t", now=now
    )
    notified_sql, notified_params = notifications_insert_cte(
        select_sql=notification_sql, params=notification_params
    )
    task_table = FollowUpTask._meta.db_table
    sql = (
        f"WITH due AS ({_alerts_due_sql(kind=kind)}), "  # noqa: S608 (table names and constants; values are parameters)
        f"claimed AS ({_alerts_claim_sql(due_sql='due d')}), "
        "alerted AS (SELECT t.id, t.due_at, t.method, t.clinic_id, t.client_id, "
        "t.assigned_to_id, c.recipient_id FROM claimed c CROSS JOIN LATERAL (SELECT * FROM "
        f"{task_table} t WHERE t.id = c.task_id OFFSET 0) t), "
        f"{notified_sql}, audited AS ({audit_insert_sql(audit_sql)}) "
        "SELECT 'claimed', count(*), NULL::timestamptz FROM claimed "
        "UNION ALL SELECT 'walked', count(*), NULL FROM due "
        # The walk's new position: the last task of the stretch in the walk's order.
        "UNION ALL (SELECT 'last', id, due_at FROM due ORDER BY due_at DESC, id DESC LIMIT 1) "
        "UNION ALL SELECT 'email', id, NULL FROM notified_email"
    )
    params = [
        *[clinic.pk, due_before, *_position_params(after), kind, limit],
        *[kind, now],
        *notified_params,
        *audit_params,
    ]
    with connection.cursor() as cursor:
        # The planner's cost for the stretch's per-task probes passes jit_above_cost, and
        # compiling the statement took ~0.2 s a batch, more than it could save on 5,000 rows.
        cursor.execute("SET LOCAL jit = off")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    counts = {row[0]: row[1] for row in rows if row[0] in ("claimed", "walked")}
    last = next(((row[2], row[1]) for row in rows if row[0] == "last"), after)
    notifications_emails_enqueue(email_ids=[row[1] for row in rows if row[0] == "email"])
    return counts["claimed"], counts["walked"], last
