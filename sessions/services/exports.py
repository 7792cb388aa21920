"""PDF export of signed session records, single or bulk (a ZIP of PDFs plus a CSV index).

The ExportJob row is the source of truth. `export_job_run` may be delivered twice (acks_late
re-delivers after a worker died; the resume sweep re-enqueues jobs Redis forgot), so it is
idempotent: every file is written under a temporary name and renamed into place atomically, a
record whose PDF already exists is not rendered again, and a finished job is left alone.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import logging
import os
import uuid
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone

from crisisnotes.accounts.models import Role, User
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record, audit_record_for_clients
from crisisnotes.celery import enqueue_now, enqueue_on_commit
from crisisnotes.pdf import StaticOnlyURLFetcher, pdf_render
from sessions.models import CrisisSession, ExportJob, FollowUpAttempt, FollowUpTask
from sessions.models.exports import ExportFormat, ExportKind, ExportStatus
from sessions.models.notes import NoteStatus, RiskLevel
from sessions.registry import sections
from sessions.services.signing import note_content_canonical

logger = logging.getLogger(__name__)

EXPORTS_DIR = "exports"
# Namespace of the PostgreSQL advisory locks that keep two deliveries of one job apart.
_LOCK_NAMESPACE = 6006
# A queued or running job untouched for this long lost its message (Redis restart, or its
# worker died after a duplicate delivery was acknowledged): the sweep enqueues it again.
STALE_AFTER = timedelta(minutes=3)


class ExportError(Exception):
    """The export could not be requested as asked; the message says why."""


# --- the record ---------------------------------------------------------------------------


def record_queryset() -> Any:
    related = ["clinic", "client", "author", "signed_by", "cosigned_by"]
    for section in sections():
        related.extend(section.select_related())
    return CrisisSession.objects.select_related(*related)


def _review_comments(note: CrisisSession) -> list[Any]:
    # Supervision's comments, when that app is installed in this build.
    try:
        model = apps.get_model("crisis_sessions", "ReviewComment")
    except LookupError:
        return []
    return list(model._default_manager.filter(session=note).order_by("created_at", "pk"))


def record_context(
    *, note: CrisisSession, generated_by: User | None, generated_at: datetime
) -> dict[str, Any]:
    """Everything the record's PDF shows: every registered section through its read-only
    template (the same partial the locked note page shows), the quick notes, follow-ups,
    addenda, review comments and the signature blocks. Every field of the content hash is
    printed (tests/sessions/test_pdf_record_complete.py proves it field by field)."""
    blocks = []
    for section in sections():
        if not section.readonly_template_name:
            continue
        context = {
            "note": note,
            "section": section,
            "pdf": True,
            **section.readonly_context(note=note),
        }
        try:
            html = render_to_string(section.readonly_template_name, context)
        except TemplateDoesNotExist:
            # A section whose read-only partial is missing still prints its content, as plain
            # label/value rows, rather than dropping part of the record from the PDF.
            logger.error("No read-only template for section %s", section.key)
            html = render_to_string("pdf/section_fallback.html", _fallback(section, note))
        blocks.append({"section": section, "html": html})
    tasks = list(
        FollowUpTask.objects.filter(session=note)
        .select_related("assigned_to")
        .order_by("due_at", "id")
    )
    attempts: dict[int, list[FollowUpAttempt]] = {}
    for attempt in FollowUpAttempt.objects.filter(task__session=note).select_related("by"):
        attempts.setdefault(attempt.task_id, []).append(attempt)
    for task in tasks:
        task.attempt_list = attempts.get(task.pk, [])  # type: ignore[attr-defined]
    return {
        "note": note,
        "clinic": note.clinic,
        "client": note.client,
        "blocks": blocks,
        # Part of the signed content (and of its hash), so part of the printed record.
        "quick_notes": list(note.quick_notes.order_by("created_at", "id")),
        "followups": tasks,
        "addenda": list(note.addenda.all().order_by("created_at", "id")),
        "review_comments": _review_comments(note),
        "record_status": record_status_label(note),
        "risk_level_label": RiskLevel(note.risk_level).label if note.risk_level else "",
        "generated_by": generated_by,
        "generated_at": generated_at,
    }


def _fallback(section: Any, note: CrisisSession) -> dict[str, Any]:
    try:
        content = section.content(note=note)
    except Exception:  # a half-registered section must not hide the rest of the record
        logger.exception("Section %s has no printable content", section.key)
        content = {}
    return {
        "items": [
            (str(key).replace("_", " ").capitalize(), _printable(value))
            for key, value in content.items()
        ]
    }


def _printable(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, list):
        return "; ".join(_printable(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_printable(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def record_status_label(note: CrisisSession) -> str:
    return "Co-signed" if note.cosigned_at else "Signed"


def record_html(
    *, note: CrisisSession, generated_by: User | None, generated_at: datetime | None = None
) -> str:
    if note.status != NoteStatus.SIGNED:
        raise ExportError("Only signed records are exported; drafts never are.")
    context = record_context(
        note=note, generated_by=generated_by, generated_at=generated_at or timezone.now()
    )
    # In the clinic's zone wherever it renders: a worker has no request to activate it.
    with timezone.override(note.clinic.zone):
        return render_to_string("pdf/session_record.html", context)


def record_pdf(
    *,
    note: CrisisSession,
    generated_by: User | None,
    generated_at: datetime | None = None,
    fetcher: StaticOnlyURLFetcher | None = None,
) -> bytes:
    """The signed record as PDF bytes. Refuses anything not signed."""
    html = record_html(note=note, generated_by=generated_by, generated_at=generated_at)
    return pdf_render(html=html, fetcher=fetcher)


# --- requests -------------------------------------------------------------------------------


def _can_export(user: User) -> bool:
    return any(user.has_role(r) for r in (Role.COUNSELOR, Role.SUPERVISOR, Role.CLINIC_ADMIN))


@transaction.atomic
def export_single_request(
    *, actor: User, note: CrisisSession, request: HttpRequest | None = None
) -> ExportJob:
    """Queue the PDF of one signed note of the actor's clinic. Audited as an export."""
    if note.clinic_id != actor.clinic_id or not _can_export(actor):
        raise ExportError("You cannot export this record.")
    if note.status != NoteStatus.SIGNED:
        raise ExportError("Only signed records can be exported; drafts never are.")
    job = ExportJob.objects.create(
        clinic_id=note.clinic_id,
        requested_by=actor,
        kind=ExportKind.SINGLE,
        scope={"session_id": note.pk},
        record_ids=[note.pk],
        progress_total=1,
    )
    audit_record(
        action=Action.EXPORT,
        actor=actor,
        request=request,
        obj=note,
        summary=f"Requested PDF export {job.pk} of this record",
    )
    _enqueue(job)
    return job


@transaction.atomic
def export_bulk_request(
    *,
    actor: User,
    date_from: date | None = None,
    date_to: date | None = None,
    counselor: User | None = None,
    client_id: int | None = None,
    risk_level: str = "",
    export_format: str = ExportFormat.PDF,
    request: HttpRequest | None = None,
) -> ExportJob:
    """Queue a ZIP of every signed record of the clinic that matches the filters (clinic admins
    only), as PDFs or as FHIR R4 NDJSON (`export_format`). The matching records are fixed now,
    so a re-run exports the same set."""
    if not actor.has_role(Role.CLINIC_ADMIN) or actor.clinic_id is None:
        raise ExportError("Only clinic admins can export records in bulk.")
    notes = CrisisSession.objects.filter(clinic_id=actor.clinic_id, status=NoteStatus.SIGNED)
    scope: dict[str, Any] = {}
    if date_from:
        notes = notes.filter(started_at__date__gte=date_from)
        scope["date_from"] = date_from.isoformat()
    if date_to:
        notes = notes.filter(started_at__date__lte=date_to)
        scope["date_to"] = date_to.isoformat()
    if counselor is not None:
        if counselor.clinic_id != actor.clinic_id:
            raise ExportError("That counselor is not in your clinic.")
        notes = notes.filter(author=counselor)
        scope["counselor_id"] = counselor.pk
    if client_id is not None:
        notes = notes.filter(client_id=client_id)
        scope["client_id"] = client_id
    if risk_level:
        from django.db.models import Q

        notes = notes.filter(
            Q(clinician_risk=risk_level) | Q(clinician_risk="", screen_risk=risk_level)
        )
        scope["risk_level"] = risk_level
    pairs = list(notes.order_by("started_at", "id").values_list("pk", "client_id"))
    ids = [session_id for session_id, _ in pairs]
    if not ids:
        raise ExportError("No signed records match these filters; nothing to export.")
    if export_format not in ExportFormat.values:
        raise ExportError("Unknown export format.")
    job = ExportJob.objects.create(
        clinic_id=actor.clinic_id,
        requested_by=actor,
        kind=ExportKind.BULK,
        format=export_format,
        scope=scope,
        record_ids=ids,
        progress_total=len(ids),
    )
    audit_record(
        action=Action.EXPORT,
        actor=actor,
        request=request,
        obj=job,
        summary=f"Requested bulk export {job.pk} of {len(ids)} records ({job.format})",
    )
    # One row per record as well, naming its client: a record's own audit trail and the client's
    # access report must show every export that included it, not only a job number.
    audit_record_for_clients(
        action=Action.EXPORT,
        actor=actor,
        clinic=actor.clinic,  # type: ignore[arg-type]
        request=request,
        object_type=CrisisSession._meta.label_lower,
        object_ids=[session_id for session_id, _ in pairs],
        client_ids=[client_id for _, client_id in pairs],
        summary=f"Included in bulk export {job.pk}",
    )
    _enqueue(job)
    return job


def _enqueue(job: ExportJob) -> None:
    from sessions.tasks import export_run

    enqueue_on_commit(export_run, job.pk)


def export_jobs_resume(*, now: datetime | None = None) -> int:
    """Enqueue again every unfinished job nobody has touched for STALE_AFTER: the database, not
    the broker, remembers what is still to do. Running it twice is harmless (the job run is
    idempotent and a second delivery of a running job steps aside)."""
    from sessions.tasks import export_run

    now = now or timezone.now()
    stale = ExportJob.objects.filter(
        status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING], updated_at__lt=now - STALE_AFTER
    )
    count = 0
    for job_id in stale.values_list("pk", flat=True):
        if enqueue_now(export_run, job_id):
            ExportJob.objects.filter(pk=job_id).update(updated_at=now)
            count += 1
    return count


# --- running a job --------------------------------------------------------------------------


def job_dir(job: ExportJob) -> Path:
    return Path(settings.PRIVATE_STORAGE_DIR) / EXPORTS_DIR / str(job.pk)


def job_file(job: ExportJob) -> Path | None:
    return Path(settings.PRIVATE_STORAGE_DIR) / job.file_path if job.file_path else None


def _private_dir(path: Path) -> None:
    """Create `path` (and its missing parents under PRIVATE_STORAGE_DIR) readable by the app's
    own user only: exported files are patient records."""
    root = Path(settings.PRIVATE_STORAGE_DIR)
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    # mkdir's mode is filtered by the umask and never applies to folders that already existed.
    for folder in [path, *path.parents]:
        if root not in [folder, *folder.parents]:
            break
        os.chmod(folder, 0o700)


def _write_atomic(path: Path, data: bytes) -> None:
    """Write under a unique temporary name in the same folder, then rename: readers and re-runs
    see either no file or the whole file, never a half-written one. Owner-only (0600) from the
    moment it exists: the mode is given to open(), not set afterwards."""
    tmp = path.with_name(f".{path.name}.{uuid.uuid4().hex}.tmp")
    descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


@contextlib.contextmanager
def _job_lock(job_id: int) -> Iterator[bool]:
    """Held while a delivery works on the job, so a duplicate delivery steps aside. A killed
    worker's lock dies with its database connection. (SQLite, the embedded default, runs one
    solo worker and needs none.)"""
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_NAMESPACE, job_id])
        acquired = bool(cursor.fetchone()[0])
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_NAMESPACE, job_id])


def _record_filename(note: CrisisSession) -> str:
    return f"session-{note.pk}-{note.started_at:%Y-%m-%d}.pdf"


def export_job_run(*, job_id: int) -> ExportJob:
    """Render the job's records and publish its file; safe to call any number of times.

    A finished job is returned untouched. A job another delivery is working on (advisory lock)
    is left to it. Otherwise the run resumes: PDFs already on disk are kept, the rest are
    rendered, the ZIP and its CSV index are built under a temporary name and renamed into place,
    and only then is the job marked done."""
    with _job_lock(job_id) as acquired:
        job = ExportJob.objects.select_related("requested_by", "clinic").get(pk=job_id)
        if job.is_finished or not acquired:
            return job
        now = timezone.now()
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.RUNNING,
            started_at=job.started_at or now,
            attempts=job.attempts + 1,
            updated_at=now,
        )
        directory = job_dir(job)
        _private_dir(directory)
        # Left over by a delivery that was killed mid-write; nobody else holds the lock.
        for stale in directory.rglob("*.tmp"):
            stale.unlink(missing_ok=True)
        try:
            if job.kind == ExportKind.SINGLE:
                _run_single(job, directory)
            elif job.format == ExportFormat.FHIR_NDJSON:
                from sessions.services.fhir import export_fhir_ndjson_run

                export_fhir_ndjson_run(job=job, directory=directory)
            else:
                _run_bulk(job, directory)
        except Exception as exc:  # the job row must say what went wrong
            logger.exception("Export job %s failed", job.pk)
            ExportJob.objects.filter(pk=job.pk).update(
                status=ExportStatus.FAILED,
                error=str(exc)[:2000] or exc.__class__.__name__,
                finished_at=timezone.now(),
                updated_at=timezone.now(),
            )
        job.refresh_from_db()
        return job


def _load_note(job: ExportJob, session_id: int) -> CrisisSession:
    note = record_queryset().filter(pk=session_id, clinic_id=job.clinic_id).first()
    if note is None:
        raise ExportError("the record no longer exists in this clinic")
    if note.status != NoteStatus.SIGNED:
        raise ExportError("the record is not signed (drafts are never exported)")
    return note


def _run_single(job: ExportJob, directory: Path) -> None:
    note = _load_note(job, job.record_ids[0])
    target = directory / _record_filename(note)
    if not target.exists():
        _write_atomic(target, record_pdf(note=note, generated_by=job.requested_by))
    _finish(job, target, failures=[])


def _run_bulk(job: ExportJob, directory: Path) -> None:
    final = directory / f"crisisnotes-export-{job.pk}.zip"
    records_dir = directory / "records"
    if final.exists():
        # A previous delivery published the ZIP and died before marking the job done.
        failures = job.failures
    else:
        _private_dir(records_dir)
        failures = []
        rows = []
        for done, session_id in enumerate(job.record_ids, start=1):
            row: dict[str, Any] = {"session_id": session_id}
            try:
                note = _load_note(job, session_id)
                name = _record_filename(note)
                row.update(_index_row(note, name))
                if not (records_dir / name).exists():
                    _write_atomic(
                        records_dir / name, record_pdf(note=note, generated_by=job.requested_by)
                    )
            except SoftTimeLimitExceeded:
                raise  # the whole job ran out of time: not this record's fault
            except Exception as exc:  # one bad record must not sink the rest
                logger.exception("Export job %s: record %s failed", job.pk, session_id)
                reason = str(exc) or exc.__class__.__name__
                failures.append(
                    {"session_id": session_id, "client": row.get("client", ""), "error": reason}
                )
                row.update({"file": "", "error": reason})
            rows.append(row)
            ExportJob.objects.filter(pk=job.pk).update(
                progress_done=done, failures=failures, updated_at=timezone.now()
            )
        if len(failures) == len(job.record_ids):
            raise ExportError("No record could be exported: " + failures[0]["error"])
        _write_atomic(final, _zip_bytes(records_dir, rows))
    # The ZIP holds every PDF: the loose copies go, so the job leaves exactly one file.
    if records_dir.exists():
        for pdf in records_dir.iterdir():
            pdf.unlink(missing_ok=True)
        records_dir.rmdir()
    _finish(job, final, failures=failures)


INDEX_FIELDS = [
    "session_id",
    "file",
    "session_started",
    "client",
    "counselor",
    "risk_level",
    "status",
    "signed_at",
    "content_hash",
    "cosign_hash",
    "file_sha256",
    "content_file",
    "error",
]


def _index_row(note: CrisisSession, filename: str) -> dict[str, Any]:
    return {
        "file": filename,
        "session_started": note.started_at.isoformat(),
        "client": note.client.alias,
        "counselor": note.signer_name or note.author.display_name,
        "risk_level": note.risk_level,
        "status": record_status_label(note),
        "signed_at": note.signed_at.isoformat() if note.signed_at else "",
        "content_hash": note.content_hash,
        "cosign_hash": note.cosign_hash,
        # The canonical content, as stored now: its SHA-256 is the content hash when the record
        # verifies, so a recipient checks it with any SHA-256 tool (docs/record-hash.md).
        "content_file": filename.removesuffix(".pdf") + ".content.json",
        "content_json": note_content_canonical(note),
        "error": "",
    }


def _zip_bytes(records_dir: Path, rows: list[dict[str, Any]]) -> bytes:
    """The ZIP: index.csv, then each record's PDF and its canonical content JSON. The index
    carries each PDF's SHA-256 and each record's content hash, so a recipient checks both."""
    pdfs: dict[str, bytes] = {}
    for row in rows:
        if row.get("file"):
            pdfs[row["file"]] = (records_dir / row["file"]).read_bytes()
            row["file_sha256"] = hashlib.sha256(pdfs[row["file"]]).hexdigest()
        else:  # the record failed: neither file is in the ZIP
            row["content_file"] = ""
    index = io.StringIO()
    writer = csv.DictWriter(index, fieldnames=INDEX_FIELDS, extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        # A leading =, +, - or @ would be a formula in a spreadsheet: neutralise it.
        writer.writerow(
            {
                k: ("'" + v if isinstance(v, str) and v and v[0] in "=+-@" else v)
                for k, v in row.items()
            }
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("index.csv", index.getvalue())
        for row in rows:
            if row.get("file"):
                archive.writestr(row["file"], pdfs[row["file"]])
                archive.writestr(row["content_file"], row["content_json"])
    return buffer.getvalue()


def _finish(job: ExportJob, path: Path, *, failures: list[dict[str, Any]]) -> None:
    now = timezone.now()
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.DONE,
        file_path=str(path.relative_to(settings.PRIVATE_STORAGE_DIR)),
        progress_done=job.progress_total,
        failures=failures,
        finished_at=now,
        updated_at=now,
    )


# --- downloads ------------------------------------------------------------------------------


def export_link_expires_at(job: ExportJob) -> datetime | None:
    if job.finished_at is None:
        return None
    return job.finished_at + timedelta(hours=job.clinic.export_link_hours)


def export_link_expired(job: ExportJob, *, now: datetime | None = None) -> bool:
    expires = export_link_expires_at(job)
    return expires is not None and (now or timezone.now()) >= expires


@transaction.atomic
def export_download_record(*, actor: User, job: ExportJob, request: HttpRequest | None) -> Path:
    """Audit a download and return the file to send. Refuses unfinished or expired jobs."""
    path = job_file(job)
    if job.purged_at is not None:
        raise ExportError("This export's file was deleted under the retention policy.")
    if job.status != ExportStatus.DONE or path is None or not path.exists():
        raise ExportError("This export has no file to download.")
    if export_link_expired(job):
        raise ExportError("This download link has expired; request the export again.")
    audit_record(
        action=Action.DOWNLOAD,
        actor=actor,
        request=request,
        obj=job,
        summary=f"Downloaded {path.name}",
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
        summary=f"Downloaded in export {job.pk} ({path.name})",
    )
    return path
