from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from crisisnotes.accounts.clinic_services import CLINIC_SETTINGS_FIELDS
from crisisnotes.accounts.models import Clinic, time_zone_names

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# How the settings page groups the fields; every name of CLINIC_SETTINGS_FIELDS appears once.
FIELDSETS: list[tuple[StrOrPromise, list[str]]] = [
    (_("Time zone"), ["time_zone"]),
    (
        _("Follow-ups"),
        [
            "followup_due_hours_high",
            "followup_due_hours_moderate",
            "followup_grace_hours",
            "followup_reminder_lead_minutes",
            "followup_max_attempts",
        ],
    ),
    (_("Signing"), ["late_entry_hours", "cosign_all_high_risk"]),
    (
        _("Crisis lines on the client copy"),
        ["crisis_line_name", "crisis_line_phone", "crisis_lines", "emergency_number"],
    ),
    (_("Exports"), ["export_link_hours"]),
    (_("Security"), ["idle_timeout_minutes", "require_mfa"]),
]

# (minimum, maximum) of each number: a policy of 0 hours or a year would be a typo, not a policy.
LIMITS: dict[str, tuple[int, int]] = {
    "followup_due_hours_high": (1, 24 * 30),
    "followup_due_hours_moderate": (1, 24 * 30),
    "followup_grace_hours": (0, 24 * 7),
    "followup_reminder_lead_minutes": (0, 24 * 60),
    "followup_max_attempts": (1, 20),
    "late_entry_hours": (1, 24 * 30),
    "export_link_hours": (1, 24 * 30),
    # The automatic logoff: at least a minute (the warning comes a minute before), at most 12 h.
    "idle_timeout_minutes": (1, 720),
}


class CrisisLinesField(forms.CharField):
    """The clinic's other crisis lines, typed one per line as "Name: number" and stored as a
    list of {"name", "phone"} (Clinic.crisis_lines)."""

    widget = forms.Textarea(attrs={"rows": 3})

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list):
            return "\n".join(f"{line['name']}: {line['phone']}" for line in value)
        return value

    def to_python(self, value: Any) -> list[dict[str, str]]:  # type: ignore[override]
        if isinstance(value, list):
            return value
        lines: list[dict[str, str]] = []
        for number, raw in enumerate(str(value or "").splitlines(), start=1):
            if not raw.strip():
                continue
            name, sep, phone = raw.rpartition(":")
            if not sep or not name.strip() or not phone.strip():
                raise forms.ValidationError(
                    _("Line %(number)s: write the name, a colon, then the number."),
                    params={"number": number},
                )
            lines.append({"name": name.strip(), "phone": phone.strip()})
        return lines


class ClinicSettingsForm(forms.ModelForm):
    """The clinic admin's settings page. The fields are CLINIC_SETTINGS_FIELDS; the view never
    saves the form, it hands `changes()` to clinic_settings_update (which audits them)."""

    time_zone = forms.ChoiceField(label=_("Time zone"), choices=())
    crisis_lines = CrisisLinesField(
        label=_("Other crisis lines"),
        required=False,
        help_text=_(
            "One per line: the name, a colon, then the number (e.g. “Línea de la Vida: 800 911 "
            "2000”). Printed on the client copy after the clinic's crisis line."
        ),
    )

    class Meta:
        model = Clinic
        fields = list(CLINIC_SETTINGS_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(name, name) for name in time_zone_names()]  # type: ignore[attr-defined]
        self.fields["time_zone"].help_text = _(
            "Every page, e-mail and PDF shows times in it; “today” and “this week” are the "
            "clinic's."
        )
        for name, (low, high) in LIMITS.items():
            field = self.fields[name]
            assert isinstance(field, forms.IntegerField)
            field.min_value, field.max_value = low, high
            field.validators = [
                *field.validators,
                *forms.IntegerField(min_value=low, max_value=high).validators,
            ]
            field.widget.attrs.update({"min": low, "max": high})
        for field in self.fields.values():
            if isinstance(field.widget, forms.CheckboxInput):
                field.widget.attrs.setdefault("class", "form-check-input")
            elif isinstance(field.widget, forms.Select):
                field.widget.attrs.setdefault("class", "form-select")
            else:
                field.widget.attrs.setdefault("class", "form-control")

    def fieldsets(self) -> list[tuple[StrOrPromise, list[forms.BoundField]]]:
        return [(title, [self[name] for name in names]) for title, names in FIELDSETS]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        high, moderate = (
            data.get("followup_due_hours_high"),
            data.get("followup_due_hours_moderate"),
        )
        if high and moderate and high > moderate:
            self.add_error(
                "followup_due_hours_high",
                _("A high-risk follow-up cannot be due later than a moderate-risk one."),
            )
        return data

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in CLINIC_SETTINGS_FIELDS}
