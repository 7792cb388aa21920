"""Reads of follow-up tasks, scoped to the reader's clinic (another clinic's task is a 404)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role
from sessions.models import FollowUpAttempt, FollowUpTask


def _tasks(*, user: User) -> QuerySet[FollowUpTask]:
    return FollowUpTask.objects.filter(clinic=user.clinic).select_related(
        "client", "assigned_to", "session"
    )


def followup_list_for_note(*, user: User, note_id: int) -> QuerySet[FollowUpTask]:
    """The note's tasks with their attempts, in due order (the note's Follow-up section)."""
    require_role(user, Role.COUNSELOR, Role.SUPERVISOR, Role.CLINIC_ADMIN)
    return (
        _tasks(user=user)
        .filter(session_id=note_id)
        .prefetch_related(
            Prefetch("attempts", queryset=FollowUpAttempt.objects.select_related("by")),
            "alerts",
        )
        .order_by("due_at", "id")
    )


def followup_get_for_action(*, user: User, task_id: int) -> FollowUpTask:
    """A task the user may log attempts on or close: their own, or (as supervisor) any of the
    clinic's."""
    require_role(user, Role.COUNSELOR, Role.SUPERVISOR)
    tasks = _tasks(user=user)
    if not user.has_role(Role.SUPERVISOR):
        tasks = tasks.filter(assigned_to=user)
    return get_object_or_404(tasks, pk=task_id)


def followup_assignee_choices(*, user: User) -> QuerySet[User]:
    """Active counselors of the user's clinic: who a follow-up can be assigned to."""
    require_role(user, Role.COUNSELOR, Role.SUPERVISOR)
    return User.objects.filter(clinic=user.clinic, is_active=True, is_counselor=True).order_by(
        "full_name", "username"
    )


def followup_assignee_names(*, user: User) -> QuerySet[User]:
    """The same people with only what a list of names shows (id, full name, username:
    `display_name`), for the note page's task form and handoff list; a post still reads the
    chosen one whole."""
    return followup_assignee_choices(user=user).only("id", "full_name", "username")
