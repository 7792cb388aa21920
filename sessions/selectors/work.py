"""Reads for the counselor's and supervisor's home pages, scoped to the reader."""

from __future__ import annotations

from django.db.models import QuerySet

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role
from sessions.models import CrisisSession, FollowUpTask
from sessions.models.notes import NoteStatus


def draft_list_for_author(*, user: User) -> QuerySet[CrisisSession]:
    """The user's own open drafts (drafts are visible to their author only)."""
    require_role(user, Role.COUNSELOR)
    return (
        CrisisSession.objects.filter(clinic=user.clinic, author=user, status=NoteStatus.DRAFT)
        .select_related("client")
        .order_by("-started_at")
    )


def followup_open_list_for_assignee(*, user: User) -> QuerySet[FollowUpTask]:
    """Open follow-up tasks assigned to the user, soonest due first."""
    require_role(user, Role.COUNSELOR)
    return (
        FollowUpTask.objects.filter(clinic=user.clinic, assigned_to=user, closed_at__isnull=True)
        .select_related("client")
        .order_by("due_at", "id")
    )


# The supervisor's queue lives with the rest of supervision: sessions.selectors.review.
