"""Retention of exported files: an export's files are patient records outside the database (on
disk or in the S3 bucket, crisisnotes/storage.py), so they are deleted once nobody may download
them any more. The job row stays (marked purged) as the record of what was exported, by whom and
when; the deletion is audited."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from sessions.models import ExportJob
from sessions.models.exports import ExportStatus
from sessions.services.exports.downloads import export_link_expired
from sessions.services.exports.files import job_files_delete


def export_retention() -> timedelta:
    return timedelta(hours=settings.EXPORT_RETENTION_HOURS)


def export_files_purge(*, now: datetime | None = None) -> int:
    """Delete the files of every finished export older than the retention (and whose download
    link has expired, whatever the clinic's link lifetime), mark the job purged, audit it.
    Returns how many jobs were purged. Safe to run twice or concurrently: each job is claimed
    with a row lock that a second purger skips, and a purged job is never selected again."""
    now = now or timezone.now()
    candidates = ExportJob.objects.filter(
        status__in=[ExportStatus.DONE, ExportStatus.FAILED],
        finished_at__lte=now - export_retention(),
        purged_at__isnull=True,
    ).values_list("pk", flat=True)
    purged = 0
    for job_id in list(candidates):
        purged += _purge_one(job_id, now)
    return purged


@transaction.atomic
def _purge_one(job_id: int, now: datetime) -> int:
    job = (
        ExportJob.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("clinic")
        .filter(pk=job_id, purged_at__isnull=True)
        .first()
    )
    if job is None or export_link_expired(job, now=now) is False:
        return 0
    # Files first (every name under the job's prefix, on disk or in the bucket), then the row:
    # if a deletion fails the job stays unpurged and the next run tries again; a crash after it
    # leaves a row that the next run marks (there is nothing left to delete).
    job_files_delete(job)
    ExportJob.objects.filter(pk=job.pk).update(purged_at=now, updated_at=now)
    audit_record(
        action=Action.DELETE,
        obj=job,
        clinic=job.clinic,
        actor_username="retention",
        summary=(
            f"Files of export {job.pk} deleted after {settings.EXPORT_RETENTION_HOURS} h "
            "(retention); the job record is kept"
        ),
    )
    return 1
