"""PDF exports: "Export PDF" on a signed note, the clinic admin's bulk export page, a job page
whose progress bar polls with htmx, and the download (clinic- and role-checked, expiring,
audited). Files live in the private storage (crisisnotes/storage.py) and leave it only from
here: streamed through the app, or by a redirect to a short-lived presigned link to the bucket
once the download has been checked and audited (EXPORT_DOWNLOAD)."""

from __future__ import annotations

import posixpath

from allauth.account.decorators import reauthentication_required
from django.conf import settings
from django.contrib import messages
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from crisisnotes.accounts.models import Role
from crisisnotes.accounts.permissions import role_required
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from crisisnotes.http import AuthedRequest
from sessions.forms.exports import BulkExportForm
from sessions.models import ExportJob
from sessions.selectors.exports import (
    EXPORT_ROLES,
    export_filter_choices,
    export_job_get,
    export_job_list_for_admin,
    export_scope_description,
)
from sessions.selectors.notes import note_get_for_view
from sessions.services.exports import (
    ExportError,
    export_bulk_request,
    export_content_type,
    export_download_record,
    export_download_url,
    export_file_open,
    export_link_expired,
    export_link_expires_at,
    export_single_request,
)


@require_POST
@role_required(*EXPORT_ROLES)
def note_export(request: AuthedRequest, note_id: int) -> HttpResponse:
    user = request.user
    note = note_get_for_view(user=user, note_id=note_id)
    try:
        job = export_single_request(actor=user, note=note, request=request)
    except ExportError as exc:
        messages.error(request, str(exc))
        return redirect(note.get_absolute_url())
    return redirect("crisis_sessions:export_detail", job_id=job.pk)


# Bulk export takes a clinic's records: the admin confirms who they are first (recent sign-in).
@reauthentication_required(allow_get=True)
@role_required(Role.CLINIC_ADMIN)
def export_list(request: AuthedRequest) -> HttpResponse:
    user = request.user
    counselors, clients = export_filter_choices(user=user)
    form = BulkExportForm(request.POST or None, counselors=counselors, clients=clients)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            job = export_bulk_request(
                actor=user,
                date_from=data["date_from"],
                date_to=data["date_to"],
                counselor=data["counselor"],
                client_id=data["client"].pk if data["client"] else None,
                risk_level=data["risk_level"],
                export_format=data["export_format"],
                request=request,
            )
        except ExportError as exc:
            form.add_error(None, str(exc))
        else:
            return redirect("crisis_sessions:export_detail", job_id=job.pk)
    jobs = export_job_list_for_admin(user=user)[:50]
    return render(request, "sessions/exports/export_list.html", {"form": form, "jobs": jobs})


def _job_context(job: ExportJob) -> dict[str, object]:
    return {
        "job": job,
        "expires_at": export_link_expires_at(job),
        "expired": export_link_expired(job),
        "scope_lines": export_scope_description(job=job),
    }


@role_required(*EXPORT_ROLES)
def export_detail(request: AuthedRequest, job_id: int) -> HttpResponse:
    job = export_job_get(user=request.user, job_id=job_id)
    # The job page names what was exported (filters, counts): a read of export metadata.
    audit_record(action=Action.VIEW, request=request, obj=job, summary="Opened the export job page")
    return render(request, "sessions/exports/export_detail.html", _job_context(job))


@role_required(*EXPORT_ROLES)
def export_progress(request: AuthedRequest, job_id: int) -> HttpResponse:
    job = export_job_get(user=request.user, job_id=job_id)
    return render(request, "sessions/exports/partials/export_progress.html", _job_context(job))


@role_required(*EXPORT_ROLES)
def export_download(request: AuthedRequest, job_id: int) -> HttpResponse:
    user = request.user
    job = export_job_get(user=user, job_id=job_id)
    try:
        name = export_download_record(actor=user, job=job, request=request)
    except ExportError as exc:
        return render(
            request,
            "sessions/exports/export_gone.html",
            {"job": job, "reason": str(exc)},
            status=410,
        )
    if settings.EXPORT_DOWNLOAD == "presigned":
        return redirect(export_download_url(name))
    response = FileResponse(
        export_file_open(name),
        as_attachment=True,
        filename=posixpath.basename(name),
        content_type=export_content_type(name),
    )
    return response  # type: ignore[return-value]  # a streaming HttpResponseBase


urlpatterns = [
    path("notes/<int:note_id>/export/", note_export, name="note_export"),
    path("exports/", export_list, name="export_list"),
    path("exports/<int:job_id>/", export_detail, name="export_detail"),
    path("exports/<int:job_id>/progress/", export_progress, name="export_progress"),
    path("exports/<int:job_id>/download/", export_download, name="export_download"),
]
