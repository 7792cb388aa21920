"""PDF export jobs. The row, not the Celery message, is the source of truth: a job re-delivered
after its worker died, or re-enqueued by the sweep after Redis lost its queue, resumes from what
the row and the files on disk say, and a finished job is never run again."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy

# A job nothing has moved on for this long is shown as waiting for a worker, not as running.
WAITING_AFTER = timedelta(seconds=30)


class ExportKind(models.TextChoices):
    SINGLE = "single", gettext_lazy("Single record")
    BULK = "bulk", gettext_lazy("Bulk")


class ExportFormat(models.TextChoices):
    PDF = "pdf", gettext_lazy("PDF (a ZIP of PDFs with a CSV index)")
    FHIR_NDJSON = (
        "fhir_ndjson",
        gettext_lazy("FHIR R4 NDJSON (Bulk Data files, one per resource type)"),
    )


class ExportStatus(models.TextChoices):
    QUEUED = "queued", gettext_lazy("Queued")
    RUNNING = "running", gettext_lazy("Running")
    DONE = "done", gettext_lazy("Done")
    FAILED = "failed", gettext_lazy("Failed")


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
    # Its name in the private storage (crisisnotes/storage.py); sent only by the download view.
    file_path = models.CharField(max_length=300, blank=True)
    error = models.TextField(blank=True)
    # [{"session_id", "client", "error"}]: records that could not be rendered.
    failures = models.JSONField(default=list, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Last time a worker claimed a chunk or finished a record of this job (the page's "waiting
    # for a worker" reads it; the resume sweep's updated_at is also touched by the sweep itself).
    progressed_at = models.DateTimeField(null=True, blank=True)
    # The claim on assembling the ZIP once every chunk is done: one runner at a time, and a
    # stalled assembler's claim is taken over (sessions.services.export_chunks).
    assembly_token = models.CharField(max_length=32, blank=True)
    assembly_by = models.CharField(max_length=64, blank=True)
    assembly_heartbeat_at = models.DateTimeField(null=True, blank=True)
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

    @property
    def waiting_for_worker(self) -> bool:
        """Unfinished and nothing moved for WAITING_AFTER: no worker is on it right now (all
        busy, or the one on it died and its chunk is not re-claimed yet)."""
        if self.is_finished:
            return False
        last = self.progressed_at or self.created_at
        return last is not None and timezone.now() - last >= WAITING_AFTER


class ExportChunk(models.Model):
    """A slice of a job's records that any worker may claim. A claim is a token plus a
    heartbeat the claimant refreshes after every record; a claim whose heartbeat is older than
    EXPORT_STALL_SECONDS belongs to a dead or stuck worker and may be taken over. Only the
    holder of the current token can mark the chunk done, so each record's result is counted
    once however many workers touched it."""

    job = models.ForeignKey(ExportJob, on_delete=models.CASCADE, related_name="chunks")
    index = models.PositiveIntegerField()
    record_ids = models.JSONField(default=list)
    claim_token = models.CharField(max_length=32, blank=True)
    # The Celery delivery (task id) holding the claim: a re-delivery of the same message after
    # its worker died takes its own chunk back at once, without waiting for the heartbeat.
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Records of this chunk finished by the current claimant (the job's progress is the sum).
    done_count = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)
    # The index rows of the chunk's records (PDF jobs) and the records that failed.
    rows = models.JSONField(default=list, blank=True)
    failures = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["job", "index"]
        constraints = [
            models.UniqueConstraint(fields=["job", "index"], name="export_chunk_job_index_unique")
        ]

    def __str__(self) -> str:
        return f"Chunk {self.index} of export {self.job_id}"
