"""Downloads of a finished export: refused once purged, unfinished or expired; every download
is audited for the job and for each client whose records the file holds, in one transaction,
before a byte is sent. The view streams the file from the private storage or, when
EXPORT_DOWNLOAD is "presigned", redirects to a link to it that expires in
EXPORT_PRESIGNED_SECONDS (docs/production.md "Exported files")."""

from __future__ import annotations

import posixpath
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record, audit_record_for_clients
from sessions.models import CrisisSession, ExportJob
from sessions.models.exports import ExportStatus
from sessions.services.exports.files import export_storage, file_exists, job_file
from sessions.services.exports.record import ExportError


def export_link_expires_at(job: ExportJob) -> datetime | None:
    if job.finished_at is None:
        return None
    return job.finished_at + timedelta(hours=job.clinic.export_link_hours)


def export_link_expired(job: ExportJob, *, now: datetime | None = None) -> bool:
    expires = export_link_expires_at(job)
    return expires is not None and (now or timezone.now()) >= expires


def export_content_type(name: str) -> str:
    return "application/zip" if name.endswith(".zip") else "application/pdf"


@transaction.atomic
def export_download_record(*, actor: User, job: ExportJob, request: HttpRequest | None) -> str:
    """Audit a download and return the storage name of the file to send. Refuses purged,
    unfinished or expired jobs, and a job whose file is not in the storage."""
    name = job_file(job)
    if job.purged_at is not None:
        raise ExportError(_("This export's file was deleted under the retention policy."))
    if job.status != ExportStatus.DONE or name is None or not file_exists(name):
        raise ExportError(_("This export has no file to download."))
    if export_link_expired(job):
        raise ExportError(_("This download link has expired; request the export again."))
    filename = posixpath.basename(name)
    audit_record(
        action=Action.DOWNLOAD,
        actor=actor,
        request=request,
        obj=job,
        summary=f"Downloaded {filename}",
    )
    # Each client in the file gets a row of their own: the download is what took their records
    # out of the application, so their access reports must show it.
    records = list(
        CrisisSession.objects.filter(pk__in=job.record_ids, clinic_id=job.clinic_id)
        .order_by("pk")
        .values_list("pk", "client_id")
    )
    audit_record_for_clients(
        action=Action.DOWNLOAD,
        actor=actor,
        clinic=job.clinic,
        request=request,
        object_type=CrisisSession._meta.label_lower,
        object_ids=[session_id for session_id, _ in records],
        client_ids=[client_id for _, client_id in records],
        summary=f"Downloaded in export {job.pk} ({filename})",
    )
    return name


def export_download_url(name: str) -> str:
    """A link to the stored file that expires in EXPORT_PRESIGNED_SECONDS and makes the browser
    save it under its own name (S3 storage only: settings refuse "presigned" without it). Give
    it only after export_download_record has checked and audited the download."""
    filename = posixpath.basename(name)
    return export_storage().url(  # type: ignore[call-arg]
        name,
        parameters={
            "ResponseContentDisposition": f'attachment; filename="{filename}"',
            "ResponseContentType": export_content_type(name),
        },
        expire=settings.EXPORT_PRESIGNED_SECONDS,
    )
