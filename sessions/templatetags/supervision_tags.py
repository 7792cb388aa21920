"""Template helpers for the live-supervision partials the note page includes."""

from __future__ import annotations

from datetime import timedelta

from django import template
from django.conf import settings

from sessions.models import ConsultReply, CrisisSession
from sessions.selectors.supervision import consult_reply_list

register = template.Library()

POLL_SETTINGS = {
    "board": "LIVE_BOARD_POLL_SECONDS",
    "consult": "CONSULT_POLL_SECONDS",
    "notifications": "NOTIFICATION_POLL_SECONDS",
}


@register.simple_tag
def poll_seconds(name: str) -> int:
    """How often a polled partial asks for changes (settings, so tests can shorten it)."""
    return int(getattr(settings, POLL_SETTINGS[name]))


@register.simple_tag
def consult_replies(note: CrisisSession) -> list[ConsultReply]:
    return consult_reply_list(note=note)


@register.filter
def hours_minutes(value: timedelta | None) -> str:
    """A duration as "45 min", "2 h 05 min", "3 d 4 h"; "—" when there is none."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    if minutes < 0:
        return "—"
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)}%"
