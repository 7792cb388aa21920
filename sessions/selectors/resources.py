from __future__ import annotations

from django.db.models import QuerySet

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role
from sessions.models import CommunityResource


def resource_list_for_admin(*, user: User) -> QuerySet[CommunityResource]:
    """The whole directory of the admin's clinic, retired entries last."""
    require_role(user, Role.CLINIC_ADMIN)
    return CommunityResource.objects.filter(clinic=user.clinic).order_by(
        "-active", "category", "name"
    )
