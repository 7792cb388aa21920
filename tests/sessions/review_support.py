"""Builders for supervision tests: notes in the states review works on, with their stage rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from crisisnotes.accounts.models import User
from sessions import registry
from sessions.models import Client, CrisisSession
from sessions.models.notes import NoteStatus
from sessions.services.signing import note_content_hash
from tests.factories import ClientFactory, CrisisSessionFactory


def draft_note(
    *, author: User, client: Client | None = None, started_at: datetime | None = None, **fields: Any
) -> CrisisSession:
    """A draft with every section's rows, as note_create makes them."""
    note = CrisisSessionFactory(
        clinic=author.clinic,
        author=author,
        client=client or ClientFactory(clinic=author.clinic, created_by=author),
        started_at=started_at or timezone.now(),
        **fields,
    )
    for section in registry.sections():
        section.create_rows(note=note)
    return note


def awaiting_note(
    *,
    author: User,
    client: Client | None = None,
    signed_at: datetime | None = None,
    reason: str = "The author is a trainee.",
    **fields: Any,
) -> CrisisSession:
    """A note its author has signed and that waits for co-signature (what note_sign leaves)."""
    note = draft_note(author=author, client=client, **fields)
    signed = {
        "status": NoteStatus.AWAITING_COSIGN,
        "signed_by": author,
        "signed_at": signed_at or timezone.now(),
        "signer_name": author.display_name,
        "signer_credential": author.credential,
        "signer_licence": author.licence_number,
        "cosign_required_reason": reason,
    }
    # The real hash of the stored content, as note_sign computes it: the record verifies.
    signing = CrisisSession.objects.get(pk=note.pk)
    for name, value in signed.items():
        setattr(signing, name, value)
    signed["content_hash"] = note_content_hash(signing)
    CrisisSession.objects.filter(pk=note.pk).update(**signed)
    note.refresh_from_db()
    return note
