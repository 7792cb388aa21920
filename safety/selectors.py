"""Every read of the safety app, scoped to the reader's clinic: another clinic's client, plan,
disclosure or notification is a 404; drafts are visible to their author only."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import connection
from django.db.models import Case, Q, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role
from crisisnotes.prepared import PreparedRead, Statement
from safety.models import Disclosure, SafetyPlanVersion, SupervisorNotification
from sessions.models import Client, CrisisSession, ExportJob
from sessions.models.notes import NoteStatus

READERS = (Role.COUNSELOR, Role.SUPERVISOR, Role.CLINIC_ADMIN)


def client_get(*, user: User, client_id: int) -> Client:
    require_role(user, *READERS)
    return get_object_or_404(
        Client.objects.filter(clinic=user.clinic).select_related("clinic"), pk=client_id
    )


def note_get_for_author(*, user: User, note_id: int) -> CrisisSession:
    """The user's own draft note (writes from inside a session need exactly that)."""
    require_role(user, Role.COUNSELOR)
    return get_object_or_404(
        CrisisSession.objects.filter(
            clinic=user.clinic, author=user, status=NoteStatus.DRAFT
        ).select_related("client", "clinic", "author"),
        pk=note_id,
    )


def note_draft_of_client(*, user: User, client: Client, note_id: int) -> CrisisSession | None:
    """The user's own draft note of this (already scoped) client, or None: the plan editor opened
    from a note returns there, and links the version to it, only for such a note."""
    require_role(user, Role.COUNSELOR)
    return (
        CrisisSession.objects.filter(
            clinic=user.clinic, client=client, author=user, status=NoteStatus.DRAFT
        )
        .select_related("client", "clinic", "author")
        .filter(pk=note_id)
        .first()
    )


def plan_version_list(*, client: Client) -> QuerySet[SafetyPlanVersion]:
    """Versions of the (already scoped) client's plan, newest first."""
    return SafetyPlanVersion.objects.filter(client=client).select_related("created_by", "session")


def plan_current(*, client: Client) -> SafetyPlanVersion | None:
    return plan_version_list(client=client).first()


def _plan_summary_queryset(client: Client) -> QuerySet[SafetyPlanVersion]:
    """plan_current, only what the client page's panel shows (number, date, whether active,
    which reads the steps), without the author and session plan_current joins in: the rule's
    home, _PLAN_SUMMARY_SQL its twin on PostgreSQL."""
    return (
        plan_version_list(client=client)
        .select_related(None)
        .only("client_id", "number", "created_at", "steps")
    )


# The client page's panels read through statements written once: building and compiling the
# ORM's cost ~1 ms of CPU each at every client page, running them a fraction of that
# (bench/README.md, issue 15). tests/safety/test_views.py compares them with the querysets.
_PLAN_SUMMARY_SQL = f"""
SELECT id, client_id, number, created_at, steps FROM {SafetyPlanVersion._meta.db_table}
 WHERE client_id = %s ORDER BY number DESC LIMIT 1
"""  # noqa: S608 (a table name; the value is a parameter)
_DISCLOSURES_RECENT_SQL = f"""
SELECT id, disclosed_at, type, recipient FROM {Disclosure._meta.db_table}
 WHERE client_id = %s ORDER BY disclosed_at DESC, id DESC LIMIT %s
"""  # noqa: S608 (a table name; the values are parameters)


def plan_current_summary(*, client: Client) -> SafetyPlanVersion | None:
    """plan_current for the client page's panel (_plan_summary_queryset)."""
    if connection.vendor != "postgresql":
        return _plan_summary_queryset(client).first()
    found = list(SafetyPlanVersion.objects.raw(_PLAN_SUMMARY_SQL, [client.pk]))
    return found[0] if found else None


def plan_version_get(*, user: User, client_id: int, number: int) -> SafetyPlanVersion:
    client = client_get(user=user, client_id=client_id)
    return get_object_or_404(plan_version_list(client=client), number=number)


def _plan_candidates(
    *, note_id: int, client_id: int, signed_at: datetime | None = None
) -> QuerySet[SafetyPlanVersion]:
    earlier = Q(client_id=client_id)
    if signed_at is not None:
        earlier &= Q(created_at__lte=signed_at)
    return SafetyPlanVersion.objects.filter(Q(session_id=note_id) | earlier).order_by(
        Case(When(session_id=note_id, then=Value(0)), default=Value(1)), "-number"
    )[:1]


# Compiled once per process for a draft (no signing time) and once for a signed note (its
# signing time bound like the ids): the note page, the hash and the sign rules read it.
_PLAN = PreparedRead(_plan_candidates, ids=("note_id", "client_id"), times=("signed_at",))


def plan_in_force(*, note: CrisisSession) -> SafetyPlanVersion | None:
    """The plan version that held for this session: the last one saved in it, else the client's
    newest version saved before the note was signed (or now, for a draft).

    One query (the note page, the sign rules, the record's hash and the signed page each ask,
    so a note with no plan of its own used to pay two round trips every time): the candidates
    of both kinds, the session's own first."""
    found = _PLAN(note_id=note.pk, client_id=note.client_id, signed_at=note.signed_at)
    return found[0] if found else None


def plan_in_force_ahead(*, note: CrisisSession) -> Statement:
    """The statement `plan_in_force` sends for this note, to read ahead."""
    return _PLAN.statement(note_id=note.pk, client_id=note.client_id, signed_at=note.signed_at)


def disclosure_list_for_client(
    *, client: Client, date_from: date | None = None, date_to: date | None = None
) -> QuerySet[Disclosure]:
    """The accounting of disclosures of the (already scoped) client, newest first; a period is
    whole days in the active (clinic's) time zone, both ends included."""
    disclosures = Disclosure.objects.filter(client=client).select_related("created_by", "session")
    zone = timezone.get_current_timezone()
    if date_from is not None:
        disclosures = disclosures.filter(
            disclosed_at__gte=datetime.combine(date_from, time.min, tzinfo=zone)
        )
    if date_to is not None:
        end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=zone)
        disclosures = disclosures.filter(disclosed_at__lt=end)
    return disclosures.order_by("-disclosed_at", "-id")


def disclosure_recent_for_client(*, client: Client, limit: int) -> list[Disclosure]:
    """The client's `limit` newest disclosures for the client page's panel: only what it shows
    (date, type, recipient), without the author and session disclosure_list_for_client joins
    in (their ~100 columns were most of the panel's time, rows or none)."""
    if connection.vendor != "postgresql":
        return list(_disclosures_recent_queryset(client)[:limit])
    return list(Disclosure.objects.raw(_DISCLOSURES_RECENT_SQL, [client.pk, limit]))


def _disclosures_recent_queryset(client: Client) -> QuerySet[Disclosure]:
    """disclosure_recent_for_client's rows as the ORM states them (_DISCLOSURES_RECENT_SQL)."""
    return (
        disclosure_list_for_client(client=client)
        .select_related(None)
        .only("disclosed_at", "type", "recipient")
    )


def disclosure_session_choices(*, user: User, client: Client) -> QuerySet[CrisisSession]:
    """The client's sessions this user may record a disclosure against: a counselor their own
    (draft or signed), a supervisor or clinic admin any of the client's."""
    require_role(user, *READERS)
    notes = CrisisSession.objects.filter(clinic=user.clinic, client=client).select_related("author")
    if not (user.has_role(Role.SUPERVISOR) or user.has_role(Role.CLINIC_ADMIN)):
        notes = notes.filter(author=user)
    return notes.order_by("-started_at", "-id")


def export_job_for_disclosure(*, user: User, job_id: int) -> ExportJob:
    require_role(user, Role.CLINIC_ADMIN)
    return get_object_or_404(
        ExportJob.objects.filter(clinic=user.clinic).select_related("clinic"), pk=job_id
    )


def export_disclosure_count(*, job: ExportJob) -> int:
    """How many accounting rows this export already produced (0: not recorded yet)."""
    return Disclosure.objects.filter(export_job=job).count()


def disclosure_get(*, user: User, disclosure_id: int) -> Disclosure:
    require_role(user, *READERS)
    return get_object_or_404(
        Disclosure.objects.filter(clinic=user.clinic).select_related("client", "session"),
        pk=disclosure_id,
    )


def supervisor_notification_for_supervisor(
    *, user: User, notification_id: int
) -> SupervisorNotification:
    """A notification addressed to this supervisor, in their clinic."""
    require_role(user, Role.SUPERVISOR)
    return get_object_or_404(
        SupervisorNotification.objects.filter(
            session__clinic=user.clinic, supervisor=user
        ).select_related("session", "session__client", "session__author", "created_by"),
        pk=notification_id,
    )


def _supervisors(*, clinic_id: int) -> QuerySet[User]:
    return (
        User.objects.filter(clinic_id=clinic_id, is_supervisor=True, is_active=True)
        .order_by("full_name")
        .only("id", "full_name", "username", "credential")
    )


_SUPERVISORS = PreparedRead(_supervisors, ids=("clinic_id",))


def supervisors_of_clinic(*, user: User) -> QuerySet[User]:
    """The clinic's active supervisors, with what the record form shows and records of them
    (the name and credential of `signature_line`), not their whole account rows. By the
    clinic's id: `user` may be a note's author, loaded without its clinic (the note page)."""
    assert user.clinic_id is not None
    return _supervisors(clinic_id=user.clinic_id)


def supervisors_of_clinic_rows(*, user: User) -> list[User]:
    """`supervisors_of_clinic` read (compiled once, crisisnotes/prepared.py): the note page
    lists them at every view."""
    assert user.clinic_id is not None
    return _SUPERVISORS(clinic_id=user.clinic_id)


def _notifications(*, note_id: int) -> QuerySet[SupervisorNotification]:
    return SupervisorNotification.objects.filter(session_id=note_id).order_by("notified_at", "id")


_NOTIFICATIONS = PreparedRead(_notifications, ids=("note_id",))


def supervisor_notification_list(*, note: CrisisSession) -> list[SupervisorNotification]:
    """The (already scoped) note's supervisor notifications, oldest first (compiled once: the
    note page reads them at every view)."""
    return _NOTIFICATIONS(note_id=note.pk)


def _session_disclosures(*, note_id: int) -> QuerySet[Disclosure]:
    return Disclosure.objects.filter(session_id=note_id).order_by("disclosed_at")


_SESSION_DISCLOSURES = PreparedRead(_session_disclosures, ids=("note_id",))


def disclosure_list_for_note(*, note: CrisisSession) -> list[Disclosure]:
    """The (already scoped) note's own disclosures, in the order they were made (compiled
    once: the note page reads them at every view)."""
    return _SESSION_DISCLOSURES(note_id=note.pk)


def note_safety_readonly_ahead(*, note: CrisisSession) -> list[Statement]:
    """The statements of the Safety stage's reads on a locked note's page (its supervisor
    notifications, the plan in force, its disclosures), to read ahead (crisisnotes/prepared.py)."""
    return [
        _NOTIFICATIONS.statement(note_id=note.pk),
        plan_in_force_ahead(note=note),
        _SESSION_DISCLOSURES.statement(note_id=note.pk),
    ]


def note_safety_ahead(*, note: CrisisSession) -> list[Statement]:
    """The statements of the reads the draft's Safety stage makes (its supervisor
    notifications, the plan in force, its disclosures, the supervisors of the record form:
    `supervisor_notification_list`, `plan_in_force`, `disclosure_list_for_note`,
    `supervisors_of_clinic_rows` of its author), to read ahead (crisisnotes/prepared.py)."""
    statements = note_safety_readonly_ahead(note=note)
    if note.author.clinic_id is not None:
        statements.append(_SUPERVISORS.statement(clinic_id=note.author.clinic_id))
    return statements
