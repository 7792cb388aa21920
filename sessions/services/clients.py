"""Writes of case records (clients)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record, audit_record_for_clients, query_fingerprint
from sessions.models import Client
from sessions.models.clients import CLIENT_FIELDS


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
    # The clinic and creator are the signed-in user and their clinic, loaded rows: no query to
    # check that they exist (as note_create does for its author, client and clinic).
    client.full_clean(exclude=["clinic", "created_by"])
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


def client_search_audit(
    *, user: User, q: str, clients: list[Client], request: HttpRequest | None = None
) -> None:
    """Record a search: who searched, when and how many records it showed — the words only as a
    keyed hash, so the audit log never becomes a list of names and phone numbers — and, since
    seeing a client in the results is seeing part of their record, one row per listed client
    for their access report (one INSERT for the whole page)."""
    if q.strip():
        audit_record(
            action=Action.SEARCH,
            actor=user,
            request=request,
            object_type="crisis_sessions.client",
            clinic=user.clinic,
            summary=f"Client search {query_fingerprint(q)}: {len(clients)} result(s) shown",
        )
    if clients and user.clinic is not None:
        audit_record_for_clients(
            action=Action.VIEW,
            actor=user,
            clinic=user.clinic,
            request=request,
            client_ids=[client.pk for client in clients],
            summary="Listed in client search results",
        )
