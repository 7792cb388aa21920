"""`{% record_verification note as check %}`: the note page and the PDF show whether the stored
record still verifies, recomputed when they are rendered (sessions.services.verify)."""

from __future__ import annotations

from django import template

from sessions.models import CrisisSession
from sessions.services.verify import RecordVerification, note_verify

register = template.Library()


@register.simple_tag
def record_verification(note: CrisisSession) -> RecordVerification | None:
    return note_verify(note=note)
