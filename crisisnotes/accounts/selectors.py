"""Reads of users and teams, always scoped to the reader's clinic (another clinic's is a 404)."""

from __future__ import annotations

from django.conf import settings
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from crisisnotes.accounts.models import Clinic, Role, Team, User
from crisisnotes.accounts.permissions import require_role


def user_list(*, user: User) -> QuerySet[User]:
    """Users of the reader's clinic. Clinic admins manage them; others see colleagues' names."""
    require_role(user, Role.COUNSELOR, Role.SUPERVISOR, Role.CLINIC_ADMIN)
    return (
        User.objects.filter(clinic=user.clinic)
        .select_related("team")
        .order_by("-is_active", "full_name", "username")
    )


def user_get_for_admin(*, user: User, user_id: int) -> User:
    require_role(user, Role.CLINIC_ADMIN)
    return get_object_or_404(user_list(user=user), pk=user_id)


def clinic_get_for_admin(*, user: User) -> Clinic:
    """A fresh copy of the admin's own clinic (forms may write into it without side effects)."""
    require_role(user, Role.CLINIC_ADMIN)
    return Clinic.objects.get(pk=user.clinic.pk)  # type: ignore[union-attr]


def team_list(*, user: User) -> QuerySet[Team]:
    require_role(user, Role.COUNSELOR, Role.SUPERVISOR, Role.CLINIC_ADMIN)
    return Team.objects.filter(clinic=user.clinic).select_related("supervisor")


def supervisor_for(*, user: User) -> User | None:
    """The supervisor of the user's team, who receives their escalations and co-sign requests."""
    if user.team_id is None:
        return None
    team = Team.objects.select_related("supervisor").get(pk=user.team_id)
    supervisor = team.supervisor
    if supervisor is None or not supervisor.is_active:
        return None
    return supervisor


def user_is_locked_out(*, user: User) -> bool:
    """Whether failed log-ins for `user` reached the lockout limit within the cool-off."""
    from axes.models import AccessAttempt

    return AccessAttempt.objects.filter(
        username=user.get_username(), failures_since_start__gte=settings.AXES_FAILURE_LIMIT
    ).exists()
