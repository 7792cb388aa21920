from __future__ import annotations

from typing import Any

from django import forms

from crisisnotes.accounts.clinic_services import CLINIC_SETTINGS_FIELDS
from crisisnotes.accounts.models import Clinic, time_zone_names

# How the settings page groups the fields; every name of CLINIC_SETTINGS_FIELDS appears once.
FIELDSETS: list[tuple[str, list[str]]] = [
    ("Time zone", ["time_zone"]),
    (
        "Follow-ups",
        [
            "followup_due_hours_high",
            "followup_due_hours_moderate",
            "followup_grace_hours",
            "followup_reminder_lead_minutes",
            "followup_max_attempts",
        ],
    ),
    ("Signing", ["late_entry_hours", "cosign_all_high_risk"]),
    ("Crisis line", ["crisis_line_name", "crisis_line_phone"]),
    ("Exports", ["export_link_hours"]),
    ("Security", ["idle_timeout_minutes", "require_mfa"]),
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


class ClinicSettingsForm(forms.ModelForm):
    """The clinic admin's settings page. The fields are CLINIC_SETTINGS_FIELDS; the view never
    saves the form, it hands `changes()` to clinic_settings_update (which audits them)."""

    time_zone = forms.ChoiceField(label="Time zone", choices=())

    class Meta:
        model = Clinic
        fields = list(CLINIC_SETTINGS_FIELDS)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [(name, name) for name in time_zone_names()]  # type: ignore[attr-defined]
        self.fields["time_zone"].help_text = (
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

    def fieldsets(self) -> list[tuple[str, list[forms.BoundField]]]:
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
                "A high-risk follow-up cannot be due later than a moderate-risk one.",
            )
        return data

    def changes(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in CLINIC_SETTINGS_FIELDS}
