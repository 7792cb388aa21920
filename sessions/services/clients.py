"""Writes of case records (clients)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from sessions.models import Client

CLIENT_FIELDS = (
    "alias",
    "name",
    "pronouns",
    "date_of_birth",
    "age_range",
    "phone",
    "language",
    "location",
    "emergency_contact",
    "supports_notes",
)


@transaction.atomic
def client_create(
    *, user: User, alias: str, request: HttpRequest | None = None, **fields: Any
) -> Client:
    """Create a case record in the user's clinic. Only the alias is required (clients may stay
    anonymous); audited in the same transaction."""
    require_role(user, Role.COUNSELOR, Role.SUPERVISOR)
    unknown = set(fields) - set(CLIENT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown client fields: {sorted(unknown)}")
    client = Client(clinic=user.clinic, alias=alias.strip(), created_by=user, **fields)
    client.full_clean()
    client.save()
    audit_record(
        action=Action.CREATE, actor=user, request=request, obj=client, summary="client created"
    )
    return client


@transaction.atomic
def client_update(
    *, user: User, client: Client, request: HttpRequest | None = None, **fields: Any
) -> Client:
    """Change a case record of the user's clinic; audited with the names of the changed fields."""
    require_role(user, Role.COUNSELOR, Role.SUPERVISOR)
    if client.clinic_id != user.clinic_id:
        raise PermissionDenied("client of another clinic")
    changed = []
    for name, value in fields.items():
        if name not in CLIENT_FIELDS:
            raise TypeError(f"Unknown client field: {name}")
        if getattr(client, name) != value:
            setattr(client, name, value)
            changed.append(name)
    if changed:
        client.full_clean()
        client.save()
        audit_record(
            action=Action.UPDATE,
            actor=user,
            request=request,
            obj=client,
            summary=f"client changed: {', '.join(changed)}"[:300],
        )
    return client
