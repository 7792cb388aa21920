"""Which language a text of the sessions app is written in when it is not the reader's request."""

from __future__ import annotations

from typing import Any

from django.utils import translation

from crisisnotes.notifications.texts import recipient_language as language_of


def recipient_language(recipient: Any) -> translation.override:
    """The language of a text stored once for one reader (a notification and its e-mail): theirs,
    or the site's default for a user without one (docs/i18n-sessions.md)."""
    return translation.override(language_of(getattr(recipient, "language", "")))
