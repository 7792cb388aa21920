"""PDF export jobs. The row, not the Celery message, is the source of truth: a job re-delivered
after its worker died, or re-enqueued by the sweep after Redis lost its queue, resumes from what
the row and the files on disk say, and a finished job is never run again."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ExportKind(models.TextChoices):
    SINGLE = "single", "Single record"
    BULK = "bulk", "Bulk"


class ExportFormat(models.TextChoices):
    PDF = "pdf", "PDF (a ZIP of PDFs with a CSV index)"
    FHIR_NDJSON = "fhir_ndjson", "FHIR R4 NDJSON (Bulk Data files, one per resource type)"


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class ExportJob(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="export_jobs"
    )
    kind = models.CharField(max_length=10, choices=ExportKind.choices)
    format = models.CharField(max_length=20, choices=ExportFormat.choices, default=ExportFormat.PDF)
    # The filters as requested (for the audit and the page), and the records they matched at
    # request time: a re-delivered job exports the same set even if new notes were signed since.
    scope = models.JSONField(default=dict, blank=True)
    record_ids = models.JSONField(default=list, blank=True)
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED, db_index=True
    )
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    # Relative to settings.PRIVATE_STORAGE_DIR; served only by the download view.
    file_path = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    # [{"session_id", "client", "error"}]: records that could not be rendered.
    failures = models.JSONField(default=list, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Set when the retention policy deleted the job's files; the row stays as the record of what
    # was exported, by whom and when (sessions.services.retention).
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["clinic", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} export {self.pk} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in (ExportStatus.DONE, ExportStatus.FAILED)

    @property
    def percent(self) -> int:
        if self.status == ExportStatus.DONE:
            return 100
        if not self.progress_total:
            return 0
        return min(100, self.progress_done * 100 // self.progress_total)
