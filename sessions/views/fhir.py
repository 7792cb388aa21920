"""The signed record as a FHIR R4 Bundle (JSON download), next to "Export PDF" on the note.
Same selector and roles as the PDF export; the service audits every download."""

from __future__ import annotations

import json

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path

from crisisnotes.accounts.models import User
from crisisnotes.accounts.permissions import role_required
from sessions.fhir import FHIR_JSON, FhirExportError
from sessions.selectors.exports import EXPORT_ROLES
from sessions.selectors.notes import note_get_for_view
from sessions.services.fhir import fhir_bundle_export


@role_required(*EXPORT_ROLES)
def note_fhir_download(request: HttpRequest, note_id: int) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
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


urlpatterns = [
    path("notes/<int:note_id>/fhir.json", note_fhir_download, name="note_fhir_download"),
]
