"""Reads of follow-up tasks, scoped to the reader's clinic (another clinic's task is a 404)."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role
from crisisnotes.prepared import PreparedRead, Statement
from sessions.models import FollowUpAttempt, FollowUpTask


def _tasks(*, clinic_id: int) -> QuerySet[FollowUpTask]:
    return FollowUpTask.objects.filter(clinic_id=clinic_id).select_related(
        "client", "assigned_to", "session"
    )


def _note_tasks(*, clinic_id: int, note_id: int) -> QuerySet[FollowUpTask]:
    return (
        _tasks(clinic_id=clinic_id)
        .filter(session_id=note_id)
        .prefetch_related(
            Prefetch("attempts", queryset=FollowUpAttempt.objects.select_related("by")),
            "alerts",
        )
        .order_by("due_at", "id")
    )


# Compiled once (crisisnotes/prepared.py): the note page reads it at every view.
_NOTE_TASKS = PreparedRead(_note_tasks, ids=("clinic_id", "note_id"))


def followup_list_for_note(*, user: User, note_id: int) -> list[FollowUpTask]:
    """The note's tasks with their attempts, in due order (the note's Follow-up section)."""
    require_role(user, Role.COUNSELOR, Role.SUPERVISOR, Role.CLINIC_ADMIN)
    assert user.clinic_id is not None
    return _NOTE_TASKS(clinic_id=user.clinic_id, note_id=note_id)


def followup_list_for_note_ahead(*, user: User, note_id: int) -> Statement:
    """`followup_list_for_note`'s statement (its tasks; their attempts and alerts are
    prefetched after them, when there are any), to read ahead."""
    require_role(user, Role.COUNSELOR, Role.SUPERVISOR, Role.CLINIC_ADMIN)
    assert user.clinic_id is not None
    return _NOTE_TASKS.statement(clinic_id=user.clinic_id, note_id=note_id)


def _answerable(*, client_id: int, task_id: int | None) -> QuerySet[FollowUpTask]:
    return FollowUpTask.objects.filter(
        Q(closed_at__isnull=True) | Q(pk=task_id), client_id=client_id
    ).order_by("due_at", "id")


_ANSWERABLE = PreparedRead(_answerable, ids=("client_id", "task_id"))


def followup_answerable_for_note(*, client_id: int, task_id: int | None) -> QuerySet[FollowUpTask]:
    """The tasks a follow-up contact with the client can answer: their open ones, and `task_id`
    (the one a note already answers) even if it has been closed since."""
    return _answerable(client_id=client_id, task_id=task_id)


def followup_answerable_rows(*, client_id: int, task_id: int | None) -> list[FollowUpTask]:
    """`followup_answerable_for_note` read (compiled once, crisisnotes/prepared.py): the note
    page lists them at every view."""
    return _ANSWERABLE(client_id=client_id, task_id=task_id)


def followup_answerable_ahead(*, client_id: int, task_id: int | None) -> Statement:
    """`followup_answerable_rows`'s statement, to read ahead."""
    return _ANSWERABLE.statement(client_id=client_id, task_id=task_id)


def followup_get_for_action(*, user: User, task_id: int) -> FollowUpTask:
    """A task the user may log attempts on or close: their own, or (as supervisor) any of the
    clinic's."""
    require_role(user, Role.COUNSELOR, Role.SUPERVISOR)
    assert user.clinic_id is not None
    tasks = _tasks(clinic_id=user.clinic_id)
    if not user.has_role(Role.SUPERVISOR):
        tasks = tasks.filter(assigned_to=user)
    return get_object_or_404(tasks, pk=task_id)


def followup_assignee_choices(*, user: User) -> QuerySet[User]:
    """Active counselors of the user's clinic: who a follow-up can be assigned to."""
    require_role(user, Role.COUNSELOR, Role.SUPERVISOR)
    assert user.clinic_id is not None
    return _assignees(clinic_id=user.clinic_id)


def _assignees(*, clinic_id: int) -> QuerySet[User]:
    return User.objects.filter(clinic_id=clinic_id, is_active=True, is_counselor=True).order_by(
        "full_name", "username"
    )


_ASSIGNEE_NAMES = PreparedRead(
    lambda *, clinic_id: _assignees(clinic_id=clinic_id).only("id", "full_name", "username"),
    ids=("clinic_id",),
)


def followup_assignee_names(*, user: User) -> QuerySet[User]:
    """The same people with only what a list of names shows (id, full name, username:
    `display_name`), already read (compiled once, crisisnotes/prepared.py): for the note page's
    task form and handoff list, which share the one read; a post still reads the chosen one
    whole."""
    require_role(user, Role.COUNSELOR, Role.SUPERVISOR)
    assert user.clinic_id is not None
    return _ASSIGNEE_NAMES.filled(clinic_id=user.clinic_id)


def followup_assignee_names_ahead(*, user: User) -> Statement:
    """`followup_assignee_names`'s statement, to read ahead."""
    require_role(user, Role.COUNSELOR, Role.SUPERVISOR)
    assert user.clinic_id is not None
    return _ASSIGNEE_NAMES.statement(clinic_id=user.clinic_id)
