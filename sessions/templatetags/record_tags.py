"""`{% record_verification note as check %}`: the note page and the PDF show whether the stored
record still verifies, recomputed when they are rendered (sessions.hashing)."""

from __future__ import annotations

from django import template

from sessions.hashing import RecordVerification, note_verify
from sessions.models import CrisisSession

register = template.Library()


@register.simple_tag
def record_verification(note: CrisisSession) -> RecordVerification | None:
    return note_verify(note=note)
