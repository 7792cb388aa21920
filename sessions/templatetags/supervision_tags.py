"""Template helpers for the live-supervision partials the note page includes."""

from __future__ import annotations

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
