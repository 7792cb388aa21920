"""The one helper every read of a client record, every export and every write goes through."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.db import models
from django.http import HttpRequest

from crisisnotes.accounts.models import Clinic, User
from crisisnotes.audit.models import Action, AuditEvent
from crisisnotes.net import client_ip


def query_fingerprint(query: str) -> str:
    """A keyed hash of a search (case and spacing ignored): the same search by two people gives
    the same fingerprint, but the log never holds the words, and without SECRET_KEY a short
    phone number cannot be recovered by hashing every candidate."""
    normalised = " ".join(query.lower().split())
    digest = hmac.new(
        settings.SECRET_KEY.encode(), b"audit-search:" + normalised.encode(), hashlib.sha256
    )
    return "q#" + digest.hexdigest()[:16]


def audit_record(
    *,
    action: Action | str,
    actor: User | None = None,
    request: HttpRequest | None = None,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: Any = "",
    clinic: Clinic | None = None,
    summary: str = "",
    actor_username: str = "",
) -> AuditEvent:
    """Append one audit event.

    Call it inside the same transaction as the write it records (services do), so a rolled-back
    change leaves no audit row and a committed change always has one. `request` supplies the
    actor, address and user agent when given; `obj` supplies type, id and (if it has one) clinic.
    """
    request_user = getattr(request, "user", None)
    if actor is None and request_user is not None and request_user.is_authenticated:
        actor = request_user
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
        if clinic is None:
            clinic = getattr(obj, "clinic", None)
    if clinic is None and actor is not None:
        clinic = actor.clinic
    return AuditEvent.objects.create(
        action=action,
        actor=actor,
        actor_username=(actor.get_username() if actor else actor_username)[:150],
        clinic=clinic,
        object_type=object_type[:100],
        object_id=str(object_id)[:64],
        summary=summary[:300],
        ip_address=client_ip(request) if request is not None else None,
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request is not None else "")[:300],
    )
