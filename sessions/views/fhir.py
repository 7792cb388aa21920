"""The signed record as a FHIR R4 Bundle (JSON download), next to "Export PDF" on the note.
Same selector and roles as the PDF export; the service audits every download.

And the optional read-only FHIR endpoint for a partner system (off unless FHIR_API_ENABLED):
`GET /fhir/r4/metadata` and `GET /fhir/r4/Bundle/session-<id>` with `Authorization: Bearer
<token>`; the token's clinic scopes every read, every read is audited, errors are
OperationOutcomes."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.http import require_GET

from crisisnotes.accounts.permissions import role_required
from crisisnotes.http import AuthedRequest
from sessions.fhir import FHIR_JSON, FHIR_VERSION, FhirExportError, fhir_instant
from sessions.selectors.exports import EXPORT_ROLES
from sessions.selectors.fhir import note_get_for_fhir_token
from sessions.selectors.notes import note_get_for_view
from sessions.services.fhir import (
    fhir_api_bundle_read,
    fhir_base_url,
    fhir_bundle_export,
    fhir_token_authenticate,
)


@role_required(*EXPORT_ROLES)
def note_fhir_download(request: AuthedRequest, note_id: int) -> HttpResponse:
    user = request.user
    note = note_get_for_view(user=user, note_id=note_id)
    try:
        bundle = fhir_bundle_export(actor=user, note=note, request=request)
    except FhirExportError:
        # A draft (visible to its author) has no FHIR form; we do not say more than the PDF does.
        raise Http404("This record has no FHIR export.") from None
    response = HttpResponse(
        json.dumps(bundle, ensure_ascii=False, indent=2), content_type=FHIR_JSON
    )
    response["Content-Disposition"] = f'attachment; filename="session-{note.pk}-fhir-r4.json"'
    response["Cache-Control"] = "no-store"
    return response


# --- the optional read-only endpoint ---------------------------------------------------------


def _fhir_response(body: dict[str, Any], status: int = 200) -> HttpResponse:
    response = HttpResponse(
        json.dumps(body, ensure_ascii=False), content_type=FHIR_JSON, status=status
    )
    response["Cache-Control"] = "no-store"
    return response


def _outcome(status: int, code: str, message: str) -> HttpResponse:
    body = {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": code, "diagnostics": message}],
    }
    response = _fhir_response(body, status=status)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="crisisnotes FHIR"'
    return response


def _api_off() -> HttpResponse | None:
    # Off: the endpoint does not exist, as if never routed.
    return None if settings.FHIR_API_ENABLED else HttpResponse(status=404)


@login_not_required
@require_GET
def fhir_api_metadata(request: AuthedRequest) -> HttpResponse:
    """The CapabilityStatement: what a partner may read, and how it authenticates."""
    if (off := _api_off()) is not None:
        return off
    return _fhir_response(
        {
            "resourceType": "CapabilityStatement",
            "status": "active",
            "date": fhir_instant(timezone.now()),
            "kind": "instance",
            "implementation": {
                "description": "crisisnotes: signed crisis-session records, read-only",
                "url": fhir_base_url(),
            },
            "fhirVersion": FHIR_VERSION,
            "format": ["json"],
            "rest": [
                {
                    "mode": "server",
                    "security": {
                        "description": "Authorization: Bearer <token> (one token per partner "
                        "system, scoped to one clinic)"
                    },
                    "resource": [{"type": "Bundle", "interaction": [{"code": "read"}]}],
                }
            ],
        }
    )


@login_not_required
@require_GET
def fhir_api_bundle(request: AuthedRequest, note_id: int) -> HttpResponse:
    if (off := _api_off()) is not None:
        return off
    header = request.headers.get("Authorization", "")
    scheme, _, raw = header.partition(" ")
    token = (
        fhir_token_authenticate(raw=raw.strip(), request=request)
        if scheme.lower() == "bearer"
        else fhir_token_authenticate(raw="", request=request)
    )
    if token is None:
        return _outcome(401, "login", "A valid bearer token is required.")
    try:
        note = note_get_for_fhir_token(token=token, note_id=note_id)
    except Http404:
        return _outcome(404, "not-found", f"Bundle/session-{note_id} is not known.")
    return _fhir_response(fhir_api_bundle_read(token=token, note=note, request=request))


urlpatterns = [
    path("notes/<int:note_id>/fhir.json", note_fhir_download, name="note_fhir_download"),
    path("fhir/r4/metadata", fhir_api_metadata, name="fhir_api_metadata"),
    path("fhir/r4/Bundle/session-<int:note_id>", fhir_api_bundle, name="fhir_api_bundle"),
]
