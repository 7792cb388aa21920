"""The clinic's community resource directory (what the rapport stage offers as "resources
given"): clinic admins add, edit and retire entries; every change is audited. An entry is
retired, never deleted: signed notes keep naming the resources they gave."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from crisisnotes.accounts.models import Role, User
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from crisisnotes.errors import DomainError
from sessions.models import CommunityResource
from sessions.models.clients import ResourceCategory

RESOURCE_FIELDS = ("category", "name", "contact")


class ResourceError(DomainError):
    """A change to the directory the rules do not allow; the message says why."""


def _require_admin(actor: User) -> None:
    if not actor.has_role(Role.CLINIC_ADMIN) or actor.clinic_id is None:
        raise ResourceError(_("Only a clinic admin can change the resource directory."))


def _clean(category: str, name: str, contact: str) -> tuple[str, str, str]:
    name, contact = name.strip(), contact.strip()
    if category not in ResourceCategory.values:
        raise ResourceError(_("Choose a category."))
    if not name or not contact:
        raise ResourceError(_("A resource needs a name and a way to reach it."))
    return category, name, contact


@transaction.atomic
def resource_create(
    *, actor: User, category: str, name: str, contact: str, request: HttpRequest | None = None
) -> CommunityResource:
    _require_admin(actor)
    category, name, contact = _clean(category, name, contact)
    resource = CommunityResource.objects.create(
        clinic=actor.clinic,  # type: ignore[misc]  # _require_admin: has a clinic
        category=category,
        name=name,
        contact=contact,
    )
    audit_record(
        action=Action.CREATE,
        actor=actor,
        request=request,
        obj=resource,
        summary=f"Resource added: {resource.get_category_display()}: {name} ({contact})",
    )
    return resource


@transaction.atomic
def resource_update(
    *,
    actor: User,
    resource: CommunityResource,
    category: str,
    name: str,
    contact: str,
    request: HttpRequest | None = None,
) -> CommunityResource:
    _require_admin(actor)
    if resource.clinic_id != actor.clinic_id:
        raise ResourceError(_("This resource is not in your clinic's directory."))
    category, name, contact = _clean(category, name, contact)
    locked = CommunityResource.objects.select_for_update().get(pk=resource.pk)
    before = f"{locked.get_category_display()}: {locked.name} ({locked.contact})"
    locked.category, locked.name, locked.contact = category, name, contact
    after = f"{locked.get_category_display()}: {name} ({contact})"
    if before == after:
        return locked
    locked.save(update_fields=list(RESOURCE_FIELDS))
    audit_record(
        action=Action.UPDATE,
        actor=actor,
        request=request,
        obj=locked,
        summary=f"Resource changed: {before} → {after}"[:300],
    )
    return locked


@transaction.atomic
def resource_set_active(
    *, actor: User, resource: CommunityResource, active: bool, request: HttpRequest | None = None
) -> CommunityResource:
    """Retire an entry (no longer offered on new notes; old notes keep it) or bring it back."""
    _require_admin(actor)
    if resource.clinic_id != actor.clinic_id:
        raise ResourceError(_("This resource is not in your clinic's directory."))
    locked = CommunityResource.objects.select_for_update().get(pk=resource.pk)
    if locked.active == active:
        return locked
    locked.active = active
    locked.save(update_fields=["active"])
    audit_record(
        action=Action.UPDATE,
        actor=actor,
        request=request,
        obj=locked,
        summary=f"Resource {'restored' if active else 'retired'}: {locked.name}",
    )
    return locked
