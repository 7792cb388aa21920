"""Signed records for export and PDF tests, built the way the app builds them: a draft note with
every registered section's rows (registry.create_rows), filled, then moved to signed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from crisisnotes.accounts.models import User
from sessions.models import CrisisSession
from sessions.registry import sections
from sessions.services.signing import note_content_hash
from tests.factories import CrisisSessionFactory

STAGE_TEXT: dict[str, dict[str, Any]] = {
    "exploration": {"precipitating_event": "Lost the night-shift job on Friday"},
    "rapport": {"engagement_notes": "Talked openly after a while"},
    "problem_solving": {"interventions": "Grounding, reframing", "action_plan": "Call sister"},
    "follow_up": {"followup_plan": "Call back tomorrow morning", "crisis_numbers_given": True},
}


def signed_note(
    *,
    author: User,
    event: str = "Lost the night-shift job on Friday",
    risk: str = "high",
    before_signing: Callable[[CrisisSession], Any] | None = None,
    **note_fields: Any,
) -> CrisisSession:
    """`before_signing(draft)` adds rows the record holds (follow-up tasks...): the database
    refuses them once the note is signed, as it refuses them to the app."""
    started = note_fields.pop("started_at", timezone.now() - timezone.timedelta(hours=2))
    client = note_fields.pop("client", None)
    note = CrisisSessionFactory(
        clinic=author.clinic,
        author=author,
        started_at=started,
        **({"client": client} if client is not None else {}),
    )
    for section in sections():
        section.create_rows(note=note)
    note.refresh_from_db()
    for key, values in STAGE_TEXT.items():
        if key == "exploration":
            values = {**values, "precipitating_event": event}
        model = next((s.model for s in sections() if s.key == key), None)
        if model is not None:
            model._default_manager.filter(session=note).update(**values)
    if before_signing is not None:
        before_signing(note)
    signed: dict[str, Any] = {
        "status": "signed",
        "ended_at": started + timezone.timedelta(minutes=40),
        "screen_risk": risk,
        "clinician_risk": risk,
        "confidentiality_explained": True,
        "signed_by": author,
        "signed_at": timezone.now(),
        "signer_name": author.display_name,
        "signer_credential": author.credential,
        "signer_licence": author.licence_number,
        **note_fields,
    }
    if "content_hash" not in signed:
        # The real hash of the stored content, as note_sign computes it: the record verifies.
        signing = CrisisSession.objects.get(pk=note.pk)
        for name, value in signed.items():
            setattr(signing, name, value)
        signed["content_hash"] = note_content_hash(signing)
    CrisisSession.objects.filter(pk=note.pk).update(**signed)
    return CrisisSession.objects.get(pk=note.pk)


def draft_note(*, author: User, **fields: Any) -> CrisisSession:
    """A draft with every registered section's rows, as note_create makes it."""
    note = CrisisSessionFactory(clinic=author.clinic, author=author, **fields)
    for section in sections():
        section.create_rows(note=note)
    return CrisisSession.objects.get(pk=note.pk)
