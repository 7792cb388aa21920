"""The clinic's snippets (short phrases inserted with ";" + shortcut): only the clinic admin
changes them; every change is audited in its transaction."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from sessions.models import Snippet


def _check(actor: User, snippet: Snippet | None) -> None:
    require_role(actor, Role.CLINIC_ADMIN)
    if snippet is not None and snippet.clinic_id != actor.clinic_id:
        raise PermissionDenied("snippet of another clinic")


@transaction.atomic
def snippet_save(
    *,
    actor: User,
    shortcut: str,
    text: str,
    snippet: Snippet | None = None,
    request: HttpRequest | None = None,
) -> Snippet:
    """Create (snippet=None) or change one of the admin's clinic's snippets. The form checks the
    shortcut's shape and uniqueness; the database constraint backs it."""
    _check(actor, snippet)
    created = snippet is None
    assert actor.clinic is not None  # require_role: a clinic admin has a clinic
    snippet = snippet or Snippet(clinic=actor.clinic)
    snippet.shortcut = shortcut
    snippet.text = text
    snippet.updated_by = actor
    snippet.full_clean(exclude=["clinic", "updated_by"])
    snippet.save()
    audit_record(
        action=Action.CREATE if created else Action.UPDATE,
        actor=actor,
        request=request,
        obj=snippet,
        clinic=actor.clinic,
        summary=f"snippet ;{shortcut}",
    )
    return snippet


@transaction.atomic
def snippet_delete(*, actor: User, snippet: Snippet, request: HttpRequest | None = None) -> None:
    _check(actor, snippet)
    audit_record(
        action=Action.DELETE,
        actor=actor,
        request=request,
        obj=snippet,
        clinic=actor.clinic,
        summary=f"snippet ;{snippet.shortcut}",
    )
    snippet.delete()
