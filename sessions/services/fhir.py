"""FHIR R4 exports of signed records: the one-record Bundle download and the NDJSON files of a
bulk export job. Same access rules and audit as the PDF export: a signed note of the actor's
clinic, an export role, and an audit row per record in the same transaction as the read.
The mapping itself is sessions/fhir.py (pure); docs/fhir.md is the table."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from sessions.fhir import FhirExportError, note_fhir_bundle
from sessions.models import CrisisSession
from sessions.models.notes import NoteStatus
from sessions.selectors.exports import EXPORT_ROLES

FHIR_PATH = "/fhir/r4"


def fhir_base_url() -> str:
    """The FHIR base the Bundle's fullUrls are under: this site's read-only FHIR endpoint
    (served only when FHIR_API_ENABLED; the URLs name the resources either way)."""
    return settings.SITE_URL.rstrip("/") + FHIR_PATH


@transaction.atomic
def fhir_bundle_export(
    *,
    actor: User,
    note: CrisisSession,
    request: HttpRequest | None = None,
    generated_at: datetime | None = None,
) -> dict[str, Any]:
    """The signed record as a FHIR R4 Bundle for `actor` to download. Refuses another clinic's
    note, a user without an export role and anything not signed (FhirExportError); every
    download is audited as an export of the record, in this transaction."""
    if note.clinic_id != actor.clinic_id or not any(actor.has_role(r) for r in EXPORT_ROLES):
        raise FhirExportError("You cannot export this record.")
    if note.status != NoteStatus.SIGNED:
        raise FhirExportError("Only signed records are exported; drafts never are.")
    bundle = note_fhir_bundle(
        note=note, base_url=fhir_base_url(), generated_at=generated_at or timezone.now()
    )
    audit_record(
        action=Action.EXPORT,
        actor=actor,
        request=request,
        obj=note,
        summary="Downloaded the record as a FHIR R4 Bundle (JSON)",
    )
    return bundle


def ndjson_lines(resources: Iterable[dict[str, Any]]) -> bytes:
    """NDJSON as the Bulk Data spec writes it: one resource per line, no pretty-printing."""
    return b"".join(
        json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode("utf-8") + b"\n"
        for r in resources
    )
