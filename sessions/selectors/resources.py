from __future__ import annotations

from django.db.models import QuerySet

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role
from crisisnotes.prepared import PreparedRead, Statement
from sessions.models import CommunityResource


def resource_list_for_admin(*, user: User) -> QuerySet[CommunityResource]:
    """The whole directory of the admin's clinic, retired entries last."""
    require_role(user, Role.CLINIC_ADMIN)
    return CommunityResource.objects.filter(clinic=user.clinic).order_by(
        "-active", "category", "name"
    )


_OFFERED = PreparedRead(
    lambda *, clinic_id: CommunityResource.objects.filter(clinic_id=clinic_id, active=True),
    ids=("clinic_id",),
)


def resources_offered(*, clinic_id: int) -> list[CommunityResource]:
    """The clinic's active resources, as the note's Rapport stage offers them (by category and
    name). Compiled once (crisisnotes/prepared.py): the note page reads them at every view."""
    return _OFFERED(clinic_id=clinic_id)


def resources_offered_ahead(*, clinic_id: int) -> Statement:
    """`resources_offered`'s statement, to read ahead (crisisnotes/prepared.py)."""
    return _OFFERED.statement(clinic_id=clinic_id)
