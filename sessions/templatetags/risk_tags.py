"""The one template filter for a risk level: `{{ level|risk_label }}` (sessions.risk), for the
governing level (`note.risk_level`) and for the screen's or the clinician's own level alike."""

from __future__ import annotations

from django import template

from sessions.risk import risk_label as _risk_label

register = template.Library()


@register.filter
def risk_label(value: str | None) -> str:
    return _risk_label(value)
