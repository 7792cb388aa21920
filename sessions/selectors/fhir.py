"""Reads of the read-only FHIR endpoint, scoped to the partner token's clinic: another
clinic's record, a draft or a note awaiting co-sign is a 404, as for a person."""

from __future__ import annotations

from django.shortcuts import get_object_or_404

from sessions.models import CrisisSession, FhirApiToken
from sessions.models.notes import NoteStatus
from sessions.selectors.exports import record_queryset


def note_get_for_fhir_token(*, token: FhirApiToken, note_id: int) -> CrisisSession:
    return get_object_or_404(
        record_queryset().filter(clinic_id=token.clinic_id, status=NoteStatus.SIGNED),
        pk=note_id,
    )
