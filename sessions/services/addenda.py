"""Addenda: the only way a locked note's record grows. Append-only (a trigger rejects UPDATE and
DELETE); "entered in error" marks the note but never hides it."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from sessions.exceptions import AddendumError
from sessions.models import Addendum, CrisisSession
from sessions.models.notes import AddendumKind
from sessions.policies import can_add_addendum


@transaction.atomic
def addendum_add(
    *,
    note: CrisisSession,
    user: User,
    kind: str,
    text: str,
    reason: str,
    request: HttpRequest | None = None,
) -> Addendum:
    """Append an addendum (addendum, correction, late entry, entered in error) to a note that
    left draft — drafts are simply edited. The note's author or a supervisor of its clinic may
    add one; the author's name and credential are copied as they are today. Audited."""
    if not can_add_addendum(user=user, note=note):
        if note.is_draft:
            raise AddendumError(_("A draft is edited directly; addenda are for signed notes."))
        raise PermissionDenied("only the author or a supervisor of its clinic adds an addendum")
    if kind not in AddendumKind.values:
        raise ValidationError({"kind": _("Choose the type of addendum.")})
    text, reason = text.strip(), reason.strip()
    errors = {}
    if not text:
        errors["text"] = _("Write the addendum.")
    if not reason:
        errors["reason"] = _("Give the reason for the addendum.")
    if errors:
        raise ValidationError(errors)
    addendum = Addendum.objects.create(
        session=note,
        kind=kind,
        text=text,
        reason=reason,
        author=user,
        author_name=user.display_name,
        author_credential=user.credential,
    )
    audit_record(
        action=Action.ADDENDUM,
        actor=user,
        request=request,
        obj=note,
        clinic=user.clinic,
        summary=f"{addendum.get_kind_display()} added",
    )
    return addendum
