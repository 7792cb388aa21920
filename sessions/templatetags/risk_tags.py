"""The one template filter for a risk level: `{{ level|risk_label }}` (sessions.risk), for the
governing level (`note.risk_level`) and for the screen's or the clinician's own level alike."""

from __future__ import annotations

from typing import Any, cast

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from sessions.risk import risk_label as _risk_label

register = template.Library()


@register.filter
def risk_label(value: str | None) -> str:
    return _risk_label(value)


@register.simple_tag(takes_context=True)
def risk_badge(context: template.Context, note: Any) -> str:
    """review/partials/risk_badge.html for `note`, rendered once per page for each distinct
    (imminent, governing, screen, clinician) risk: the lists of the review queue, the team
    dashboard and the team's sessions show up to 200 notes, and an include per row was a
    quarter of the queue's time. Same markup as including the partial."""
    rendered = cast(
        dict[tuple[Any, ...], str],
        context.render_context.setdefault("risk_badge", {}),  # type: ignore[arg-type]
    )
    key = (note.imminent, note.risk_level, note.screen_risk, note.clinician_risk)
    html = rendered.get(key)
    if html is None:
        html = rendered[key] = render_to_string(
            "sessions/review/partials/risk_badge.html", {"note": note}
        )
    return mark_safe(html)  # noqa: S308 — our template, autoescaped
