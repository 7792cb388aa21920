"""The clinic's own settings, changed by its clinic admin; every change is audited with the old
and the new value, in the same transaction."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import translation
from django.utils.translation import gettext

from crisisnotes.accounts.models import Clinic, Role, Team, User
from crisisnotes.accounts.services import user_create
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from crisisnotes.errors import DomainError

# The fields a clinic admin may change on the settings page, in the page's order. Add a policy
# field here (and to a fieldset in clinic_forms.FIELDSETS) and it is editable and audited.
CLINIC_SETTINGS_FIELDS: tuple[str, ...] = (
    "time_zone",
    "followup_due_hours_high",
    "followup_due_hours_moderate",
    "followup_grace_hours",
    "followup_reminder_lead_minutes",
    "followup_max_attempts",
    "late_entry_hours",
    "cosign_all_high_risk",
    "crisis_line_name",
    "crisis_line_phone",
    "emergency_number",
    "crisis_lines",
    "export_link_hours",
    "idle_timeout_minutes",
    "require_mfa",
)


class ClinicSettingsError(DomainError):
    """A settings change the rules do not allow; the message says why."""


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):  # crisis lines
        return "; ".join(f"{line['name']}: {line['phone']}" for line in value) or "(empty)"
    return "(empty)" if value in (None, "") else str(value)


def _label(name: str) -> str:
    label = str(getattr(Clinic._meta.get_field(name), "verbose_name", name))
    return f"{label[:1].upper()}{label[1:]}"


@transaction.atomic
def clinic_settings_update(
    *, actor: User, clinic: Clinic, changes: dict[str, Any], request: HttpRequest | None = None
) -> list[str]:
    """Apply the changed settings of the actor's own clinic (clinic admins only) and audit them
    ("Follow-up due after high risk (hours): 24 → 12"). Returns the lines audited; nothing is
    written when nothing changed."""
    if not actor.has_role(Role.CLINIC_ADMIN) or actor.clinic_id != clinic.pk:
        raise ClinicSettingsError(
            gettext("Only a clinic admin of this clinic can change its settings.")
        )
    unknown = set(changes) - set(CLINIC_SETTINGS_FIELDS)
    if unknown:
        raise ClinicSettingsError(f"Not a clinic setting: {', '.join(sorted(unknown))}.")
    locked = Clinic.objects.select_for_update().get(pk=clinic.pk)
    lines: list[str] = []  # in the admin's language, for the page
    audited: list[str] = []  # in English, for the audit log (docs/i18n.md)
    changed: list[str] = []
    for name in CLINIC_SETTINGS_FIELDS:
        if name not in changes or getattr(locked, name) == changes[name]:
            continue
        change = f"{_show(getattr(locked, name))} → {_show(changes[name])}"
        lines.append(f"{_label(name)}: {change}")
        with translation.override("en"):
            audited.append(f"{_label(name)}: {change}")
        setattr(locked, name, changes[name])
        changed.append(name)
    if not changed:
        return []
    locked.full_clean()
    locked.save(update_fields=changed)
    audit_record(
        action=Action.UPDATE,
        actor=actor,
        request=request,
        obj=locked,
        clinic=locked,
        summary=("Clinic settings: " + "; ".join(audited))[:300],
    )
    for name in changed:
        setattr(clinic, name, getattr(locked, name))
    return lines


@transaction.atomic
def clinic_create(
    *,
    name: str,
    slug: str,
    time_zone: str,
    team_name: str,
    admin_username: str,
    admin_full_name: str,
    admin_email: str = "",
    admin_password: str | None = None,
) -> tuple[Clinic, Team, User]:
    """A new clinic with its first team and its first clinic admin, all or nothing (an operator
    starts a deployment with it: manage.py create_clinic). Without a password the admin sets
    their own through the password-reset e-mail."""
    if Clinic.objects.filter(slug=slug).exists():
        raise ClinicSettingsError(f"A clinic with the short name “{slug}” already exists.")
    if User.objects.filter(username=admin_username).exists():
        raise ClinicSettingsError(f"The username “{admin_username}” is taken.")
    clinic = Clinic(name=name.strip(), slug=slug, time_zone=time_zone)
    clinic.full_clean()
    clinic.save()
    team = Team.objects.create(clinic=clinic, name=team_name.strip())
    admin = user_create(
        actor=None,
        clinic=clinic,
        username=admin_username,
        full_name=admin_full_name.strip(),
        email=admin_email.strip(),
        password=admin_password,
        team=team,
        is_clinic_admin=True,
    )
    audit_record(
        action=Action.CREATE,
        obj=clinic,
        clinic=clinic,
        actor_username="create_clinic",
        summary=f"Clinic created with team “{team.name}” and clinic admin {admin_username}",
    )
    return clinic, team, admin
