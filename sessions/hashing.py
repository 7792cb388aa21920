"""The record's hashes, computed from what is stored: the content hash the author signs, the
co-sign hash the supervisor adds, and `note_verify`, which recomputes both for the note page, the
PDF and the periodic check (docs/record-hash.md).

Plain functions over the stored rows, no writes: `note_sign` and `note_cosign` (services) store
what these compute, and the record tag and the verification service only read through them, so
none of the readers has to import a service.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.utils.translation import gettext as _

from crisisnotes.prepared import PreparedRead, Statement, read_ahead
from sessions import registry
from sessions.models import CrisisSession, NoteHandoff, QuickNote
from sessions.models.integrity import RecordCheckKind
from sessions.models.notes import CONTACT_DETAIL_FIELDS, NoteStatus

HASH_HEADER_FIELDS = (
    "id",
    "clinic_id",
    "client_id",
    "author_id",
    "modality",
    "started_at",
    "ended_at",
    "confidentiality_explained",
    "screen_risk",
    "clinician_risk",
    "imminent",
    # The contact type and what it documents (CLINICAL.md §11), foreign keys by their column.
    "contact_type",
    *(f"{name}_id" if name == "answers_task" else name for name in CONTACT_DETAIL_FIELDS),
)


def _plain(value: Any) -> Any:
    return value.isoformat() if hasattr(value, "isoformat") else value


# The note's own lists as the hash reads them, each compiled once (crisisnotes/prepared.py).
_QUICK_NOTES = PreparedRead(
    lambda *, note_id: QuickNote.objects.filter(session_id=note_id).order_by("created_at", "id"),
    ids=("note_id",),
)
_HANDOFFS = PreparedRead(
    lambda *, note_id: NoteHandoff.objects.filter(session_id=note_id).order_by("handed_at", "id"),
    ids=("note_id",),
)


def note_content_reads(note: CrisisSession) -> list[Statement]:
    """The statements of the payload's list reads (the sections' `content_reads`, the quick
    notes, the handoffs), which `note_content_payload` sends to the database together, in one
    round trip: each was a round trip (and an ORM compilation) of its own at every signing,
    verification and export. They are fresh reads of the stored rows, made for the hash
    alone, whatever the page around it has read."""
    statements: list[Statement] = []
    for section in registry.sections():
        statements += section.content_reads(note=note)
    return [
        *statements,
        _QUICK_NOTES.statement(note_id=note.pk),
        _HANDOFFS.statement(note_id=note.pk),
    ]


def note_content_payload(note: CrisisSession) -> dict[str, Any]:
    """The signed content as plain JSON-able values (see `note_content_hash`)."""
    with read_ahead(note_content_reads(note)):
        return _payload(note)


def _payload(note: CrisisSession) -> dict[str, Any]:
    return {
        "header": {name: _plain(getattr(note, name)) for name in HASH_HEADER_FIELDS},
        "sections": [{section.key: section.content(note=note)} for section in registry.sections()],
        "quick_notes": [
            {"created_at": _plain(q.created_at), "text": q.text}
            for q in _QUICK_NOTES(note_id=note.pk)
        ],
        # Shift handoffs: who handed the draft to whom, when (docs/record-hash.md).
        "handoffs": [
            {
                "from_user": h.from_user_id,
                "from_name": h.from_name,
                "to_user": h.to_user_id,
                "to_name": h.to_name,
                "handed_at": _plain(h.handed_at),
            }
            for h in _HANDOFFS(note_id=note.pk)
        ],
    }


def note_content_canonical(note: CrisisSession) -> bytes:
    """The canonical UTF-8 JSON of the signed content: the exact bytes the content hash is the
    SHA-256 of. The bulk export ships these bytes beside each PDF, so a recipient can recompute
    the hash with any SHA-256 tool (docs/record-hash.md)."""
    payload = note_content_payload(note)
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return canonical.encode("utf-8")


def note_content_hash(note: CrisisSession) -> str:
    """SHA-256 (hex) of the signed content, as canonical JSON (sort_keys=True,
    separators=(",", ":"), ensure_ascii=False, UTF-8):

        {"header": {id, clinic_id, client_id, author_id, modality, started_at, ended_at,
                    confidentiality_explained, screen_risk, clinician_risk, imminent,
                    contact_type and its details (docs/record-hash.md)},
         "sections": [{<section.key>: section.content(note=note)}, ... in section order],
         "quick_notes": [{"created_at": ..., "text": ...}, ... oldest first],
         "handoffs": [{from_user, from_name, to_user, to_name, handed_at}, ... oldest first]}

    Datetimes are ISO 8601 strings (UTC). Signature fields (signer, signed_at, the hash itself),
    status, version and co-signature are not content. docs/record-hash.md describes each
    section's fields. Same content → same hash, on any machine."""
    return hashlib.sha256(note_content_canonical(note)).hexdigest()


def cosign_hash_compute(
    *,
    content_hash: str,
    cosigner_id: int,
    cosigner_name: str,
    cosigner_credential: str,
    cosigner_licence: str,
    cosigned_at: datetime,
) -> str:
    """The co-sign hash: SHA-256 (hex) of these lines joined by "\\n", in this order:

        crisisnotes-cosign-v1
        <content_hash of the note as the author signed it>
        <cosigner user id>
        <cosigner name>
        <cosigner credential>
        <cosigner licence>
        <cosigned_at, ISO 8601 in UTC>

    It binds the co-signature to exactly the content the author signed (the content hash covers
    every section) and to who co-signed it, as qualified then, and when. Anyone holding the printed
    record can recompute it."""
    parts = [
        "crisisnotes-cosign-v1",
        content_hash,
        str(cosigner_id),
        cosigner_name,
        cosigner_credential,
        cosigner_licence,
        cosigned_at.astimezone(UTC).isoformat(),
    ]
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class HashCheck:
    """One stored hash against the one recomputed from the stored rows."""

    kind: str  # RecordCheckKind
    stored: str
    computed: str

    @property
    def ok(self) -> bool:
        return bool(self.stored) and self.stored == self.computed


@dataclass(frozen=True)
class RecordVerification:
    """The verdict on one signed note: every check passed, or which did not."""

    note_id: int
    checks: tuple[HashCheck, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def mismatches(self) -> list[HashCheck]:
        return [check for check in self.checks if not check.ok]

    @property
    def message(self) -> str:
        if self.ok:
            if len(self.checks) > 1:
                return _("Record verified: content hash matches and co-sign hash matches.")
            return _("Record verified: content hash matches.")
        which = _(" and ").join(str(RecordCheckKind(c.kind).label).lower() for c in self.mismatches)
        return _(
            "Warning: this record does not verify (%(which)s does not match the stored "
            "content). The stored record is not exactly what was signed; tell the clinic admin."
        ) % {"which": which}


def note_verify(*, note: CrisisSession) -> RecordVerification | None:
    """Recompute the content hash (and, once co-signed, the co-sign hash) of a note that was
    signed, from the rows stored now; None for a draft (nothing was signed yet).

    The co-sign hash is recomputed over the stored content hash and the stored co-signer
    fields, so a changed co-signature shows as a co-sign mismatch and changed content as a
    content mismatch, each on its own."""
    if note.status == NoteStatus.DRAFT:
        return None
    try:
        computed_content = note_content_hash(note)
    except ObjectDoesNotExist:
        # A stage row is missing: the stored record is not the whole signed content.
        computed_content = ""
    checks = [
        HashCheck(kind=RecordCheckKind.CONTENT, stored=note.content_hash, computed=computed_content)
    ]
    if note.cosigned_at is not None or note.cosign_hash:
        computed = ""
        if note.cosigned_at is not None and note.cosigned_by_id is not None:
            computed = cosign_hash_compute(
                content_hash=note.content_hash,
                cosigner_id=note.cosigned_by_id,
                cosigner_name=note.cosigner_name,
                cosigner_credential=note.cosigner_credential,
                cosigner_licence=note.cosigner_licence,
                cosigned_at=note.cosigned_at,
            )
        checks.append(
            HashCheck(kind=RecordCheckKind.COSIGN, stored=note.cosign_hash, computed=computed)
        )
    return RecordVerification(note_id=note.pk, checks=tuple(checks))
