from __future__ import annotations

import zoneinfo
from functools import cache

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from crisisnotes.validators import SafeCharField, SafeJSONField


@cache
def time_zone_names() -> tuple[str, ...]:
    """IANA zone names ("America/Los_Angeles"), sorted, for validation and the settings page."""
    return tuple(sorted(zoneinfo.available_timezones()))


def validate_time_zone(value: str) -> None:
    if value not in time_zone_names():
        raise ValidationError(
            _(
                "“%(value)s” is not a time zone name; use one like America/Los_Angeles or "
                "Europe/Berlin."
            ),
            params={"value": value},
        )


def validate_crisis_lines(value: object) -> None:
    """A list of {"name": text, "phone": text}, each non-empty (the settings form builds it)."""
    ok = isinstance(value, list) and all(
        isinstance(line, dict)
        and set(line) == {"name", "phone"}
        and all(isinstance(line[key], str) and line[key].strip() for key in ("name", "phone"))
        for line in value
    )
    if not ok:
        raise ValidationError(_("Each crisis line needs a name and a number."))
    assert isinstance(value, list)
    for line in value:
        if len(line["name"]) > 200 or len(line["phone"]) > 40:
            raise ValidationError(
                _("A crisis line's name has at most 200 characters, its number at most 40.")
            )


def default_crisis_lines() -> list[dict[str, str]]:
    """The national line of the app's first home (the US); a clinic elsewhere replaces it."""
    return [{"name": "988 Suicide & Crisis Lifeline (call or text)", "phone": "988"}]


class Clinic(models.Model):
    """A clinic owns its users, clients and records; nothing is shared across clinics.

    The policy values below differ by jurisdiction (CLINICAL.md marks them configurable), so they
    are clinic settings with the documented defaults rather than constants in code.
    """

    name = SafeCharField(max_length=200)
    slug = models.SlugField(unique=True)
    crisis_line_name = SafeCharField(_("crisis line name"), max_length=200, blank=True)
    crisis_line_phone = SafeCharField(_("crisis line number"), max_length=40, blank=True)
    address = SafeCharField(max_length=300, blank=True)
    # The client copy of a safety plan tells the client what to call in an emergency: the
    # number differs by country (911, 112, 999...), so it is the clinic's, never hard-coded.
    emergency_number = SafeCharField(
        _("emergency number"),
        max_length=20,
        default="911",
        help_text=_("The number the client copy of a safety plan tells clients to call."),
    )
    # The crisis lines (besides the clinic's own) pre-filled in step 5 of a new safety plan and
    # printed on the client copy: [{"name": ..., "phone": ...}].
    crisis_lines = SafeJSONField(
        _("other crisis lines"),
        default=default_crisis_lines,
        blank=True,
        validators=[validate_crisis_lines],
        help_text=_(
            "Pre-filled in step 5 of a new safety plan and printed on the client copy, with the "
            "clinic's own crisis line."
        ),
    )
    # Every page, e-mail and PDF of the clinic shows times in this zone and names it; "today",
    # "this week" and due times are the clinic's (crisisnotes.middleware.ClinicTimeZoneMiddleware
    # for requests, Clinic.zone for tasks).
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text=_("IANA name, e.g. America/Los_Angeles."),
    )

    followup_due_hours_high = models.PositiveIntegerField(
        _("follow-up due after high risk (hours)"), default=24
    )
    followup_due_hours_moderate = models.PositiveIntegerField(
        _("follow-up due after moderate risk (hours)"), default=72
    )
    followup_grace_hours = models.PositiveIntegerField(
        _("grace before an overdue follow-up escalates (hours)"), default=4
    )
    followup_reminder_lead_minutes = models.PositiveIntegerField(
        _("reminder before a follow-up is due (minutes)"), default=60
    )
    followup_max_attempts = models.PositiveIntegerField(
        _("contact attempts allowed per follow-up"), default=5
    )
    late_entry_hours = models.PositiveIntegerField(
        _("signed later than this after the session is a late entry (hours)"), default=24
    )
    cosign_all_high_risk = models.BooleanField(
        _("co-sign every high-risk note"),
        default=False,
        help_text=_("Send every high-risk note to the supervisor for co-signature."),
    )
    export_link_hours = models.PositiveIntegerField(
        _("export download link valid (hours)"), default=24
    )
    require_mfa = models.BooleanField(
        _("require two-factor sign-in for everyone"),
        default=False,
        help_text=_("Everyone must sign in with two factors (clinic admins always must)."),
    )
    idle_timeout_minutes = models.PositiveIntegerField(
        _("sign out after inactivity (minutes)"),
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(720)],
        help_text=_(
            "Sign a user out after this many minutes without activity (a warning comes "
            "a minute before)."
        ),
    )

    def __str__(self) -> str:
        return self.name

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        """The clinic's time zone (UTC if the stored name is unknown to this machine)."""
        try:
            return zoneinfo.ZoneInfo(self.time_zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return zoneinfo.ZoneInfo("UTC")


class Team(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="teams")
    name = SafeCharField(max_length=200)
    supervisor = models.ForeignKey(
        "accounts.User",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="supervised_teams",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["clinic", "name"], name="team_name_unique_in_clinic")
        ]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    COUNSELOR = "counselor", _("Counselor")
    SUPERVISOR = "supervisor", _("Supervisor")
    CLINIC_ADMIN = "clinic_admin", _("Clinic admin")


class User(AbstractUser):
    """A person who signs into crisisnotes. Users are deactivated, never deleted, so their names
    stay on the records they wrote (and the audit log keeps pointing at them)."""

    full_name = SafeCharField(max_length=200)
    credential = SafeCharField(
        max_length=100, blank=True, help_text=_("E.g. LPC, LCSW, peer specialist.")
    )
    licence_number = SafeCharField(max_length=100, blank=True)
    is_trainee = models.BooleanField(
        default=False, help_text=_("A trainee's signed notes wait for a supervisor's co-signature.")
    )
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, null=True, blank=True, related_name="users"
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, null=True, blank=True, related_name="members"
    )
    is_counselor = models.BooleanField(default=False)
    is_supervisor = models.BooleanField(default=False)
    is_clinic_admin = models.BooleanField(default=False)
    # The interface language this user reads; "" follows the browser (Accept-Language).
    # Activated for every request by crisisnotes.middleware.UserLanguageMiddleware.
    language = models.CharField(
        _("interface language"),
        max_length=8,
        blank=True,
        default="",
        choices=settings.LANGUAGES,
    )

    REQUIRED_FIELDS = ["email", "full_name"]

    class Meta:
        constraints = [
            # Only operators (superusers, who work in Django admin) exist outside a clinic.
            models.CheckConstraint(
                condition=models.Q(clinic__isnull=False) | models.Q(is_superuser=True),
                name="user_belongs_to_a_clinic",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    @property
    def can_be_emailed(self) -> bool:
        """Whether crisisnotes e-mails this user anything (notifications, security notices, a
        password reset): an active account with an address. The bulk notifiers' SQL has the
        same rule (`notifications.services._EMAILABLE_SQL`; a test compares the two)."""
        return bool(self.email) and self.is_active

    @property
    def signature_line(self) -> str:
        """Name and credential as printed on a signature: "Ada Example, LPC"."""
        return ", ".join(part for part in (self.display_name, self.credential) if part)

    @property
    def roles(self) -> list[Role]:
        return [
            role
            for role, held in (
                (Role.COUNSELOR, self.is_counselor),
                (Role.SUPERVISOR, self.is_supervisor),
                (Role.CLINIC_ADMIN, self.is_clinic_admin),
            )
            if held
        ]

    def has_role(self, role: Role) -> bool:
        return role in self.roles
