"""FHIR R4 exports of signed records: the one-record Bundle download and the NDJSON files of a
bulk export job. Same access rules and audit as the PDF export: a signed note of the actor's
clinic, an export role, and an audit row per record in the same transaction as the read.
The mapping itself is sessions/fhir.py (pure); docs/fhir.md is the table."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from crisisnotes.accounts.models import Clinic, User
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from sessions.fhir import FhirExportError, note_fhir_bundle
from sessions.models import CrisisSession, FhirApiToken
from sessions.models.notes import NoteStatus
from sessions.policies import can_export_note

logger = logging.getLogger(__name__)

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
    if not can_export_note(user=actor, note=note):
        raise FhirExportError(
            "Only signed records are exported; drafts never are."
            if note.clinic_id == actor.clinic_id and note.status != NoteStatus.SIGNED
            else "You cannot export this record."
        )
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


# --- the optional read-only FHIR endpoint (FHIR_API_ENABLED) -------------------------------

TOKEN_PREFIX = "cnfhir_"  # noqa: S105  (a label that tells a leaked token apart, not a secret)


class FhirApiError(Exception):
    """A token could not be created or revoked as asked; the message says why."""


def fhir_token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


@transaction.atomic
def fhir_token_create(
    *, clinic: Clinic, name: str, created_by: User | None = None
) -> tuple[FhirApiToken, str]:
    """A new partner token for `clinic`. Returns the row and the token itself, which is shown
    this once: only its SHA-256 is stored. Audited."""
    name = (name or "").strip()
    if not name:
        raise FhirApiError("Name the partner system the token is for.")
    if created_by is not None and created_by.clinic_id != clinic.pk:
        raise FhirApiError("You can only create tokens for your own clinic.")
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = FhirApiToken.objects.create(
        clinic=clinic,
        name=name[:200],
        token_hash=fhir_token_digest(raw),
        prefix=raw[: len(TOKEN_PREFIX) + 5],
        created_by=created_by,
    )
    audit_record(
        action=Action.CREATE,
        actor=created_by,
        obj=token,
        clinic=clinic,
        actor_username="manage.py",
        summary=f"Created FHIR API token {token.prefix}… for {token.name}",
    )
    return token, raw


@transaction.atomic
def fhir_token_revoke(*, token: FhirApiToken, actor: User | None = None) -> FhirApiToken:
    """Revoke a token: from now on it authenticates nothing. Audited; revoking twice is a no-op."""
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            action=Action.UPDATE,
            actor=actor,
            obj=token,
            clinic=token.clinic,
            actor_username="manage.py",
            summary=f"Revoked FHIR API token {token.prefix}… of {token.name}",
        )
    return token


def fhir_token_authenticate(*, raw: str, request: HttpRequest | None = None) -> FhirApiToken | None:
    """The active token this bearer value is, or None (then the failure is audited)."""
    token = None
    if raw.startswith(TOKEN_PREFIX):
        token = (
            FhirApiToken.objects.select_related("clinic")
            .filter(token_hash=fhir_token_digest(raw), revoked_at__isnull=True)
            .first()
        )
    if token is None:
        audit_record(
            action=Action.LOGIN_FAILED,
            request=request,
            actor_username="fhir-api",
            summary="FHIR API request with a missing, unknown or revoked token",
        )
        return None
    FhirApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now())
    return token


@transaction.atomic
def fhir_api_bundle_read(
    *, token: FhirApiToken, note: CrisisSession, request: HttpRequest | None = None
) -> dict[str, Any]:
    """The Bundle of a signed record of the token's clinic (the selector scoped it), audited as
    an export of the record to the partner system, in this transaction."""
    if note.clinic_id != token.clinic_id or note.status != NoteStatus.SIGNED:
        raise FhirExportError("Not a signed record of this token's clinic.")
    bundle = note_fhir_bundle(note=note, base_url=fhir_base_url(), generated_at=timezone.now())
    audit_record(
        action=Action.EXPORT,
        request=request,
        obj=note,
        clinic=token.clinic,
        actor_username=f"fhir-token:{token.prefix}",
        summary=f"Read through the FHIR API by {token.name} (token {token.prefix}…)",
    )
    return bundle
