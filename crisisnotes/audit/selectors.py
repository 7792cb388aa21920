from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role
from crisisnotes.audit.models import AuditEvent


def audit_event_list(
    *, user: User, action: str = "", actor_id: int | None = None
) -> QuerySet[AuditEvent]:
    """The audit log of the user's own clinic; only clinic admins read it."""
    require_role(user, Role.CLINIC_ADMIN)
    events = AuditEvent.objects.filter(clinic=user.clinic).select_related("actor")
    if action:
        events = events.filter(action=action)
    if actor_id:
        events = events.filter(actor_id=actor_id)
    return events


def audit_event_get(*, user: User, event_id: int) -> AuditEvent:
    return get_object_or_404(audit_event_list(user=user), pk=event_id)
