"""PDF export of signed session records, single or bulk (a ZIP of PDFs plus a CSV index).

The ExportJob row and its ExportChunk rows are the source of truth. A job is split into chunks
that any number of workers claim (sessions/services/export_chunks.py) and assembled into its one
file by whoever finds every chunk done. `export_job_run` may be delivered any number of times
(the fan-out, acks_late re-delivery after a worker died, the resume sweep re-enqueuing jobs Redis
forgot), so it is idempotent: every file is written under a temporary name and renamed into place
atomically, a record whose PDF already exists is not rendered again, a chunk's results count only
under its current claim, and a finished job is left alone.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import os
import time
import uuid
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from crisisnotes.accounts.models import Role, User
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record, audit_record_for_clients
from crisisnotes.celery import enqueue_now, enqueue_on_commit
from crisisnotes.pdf import StaticOnlyURLFetcher, pdf_render
from sessions.models import CrisisSession, ExportJob, FollowUpAttempt, FollowUpTask
from sessions.models.exports import ExportFormat, ExportKind, ExportStatus
from sessions.models.notes import NoteStatus, RiskLevel
from sessions.registry import sections
from sessions.services.export_chunks import (
    Claim,
    assembly_claim,
    assembly_heartbeat,
    chunk_claim,
    chunk_complete,
    chunk_heartbeat,
    export_job_plan,
    job_chunks_done,
    job_has_unfinished_work,
)
from sessions.services.signing import note_content_canonical

logger = logging.getLogger(__name__)

EXPORTS_DIR = "exports"
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
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return "; ".join(_printable(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_printable(v)}" for k, v in value.items())
    return "" if value is None else str(value)


def record_status_label(note: CrisisSession) -> str:
    return (
        pgettext("note status", "Co-signed")
        if note.cosigned_at
        else pgettext("note status", "Signed")
    )


def record_html(
    *, note: CrisisSession, generated_by: User | None, generated_at: datetime | None = None
) -> str:
    if note.status != NoteStatus.SIGNED:
        raise ExportError(_("Only signed records are exported; drafts never are."))
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
        raise ExportError(_("You cannot export this record."))
    if note.status != NoteStatus.SIGNED:
        raise ExportError(_("Only signed records can be exported; drafts never are."))
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
        raise ExportError(_("Only clinic admins can export records in bulk."))
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
            raise ExportError(_("That counselor is not in your clinic."))
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
        raise ExportError(_("No signed records match these filters; nothing to export."))
    if export_format not in ExportFormat.values:
        raise ExportError(_("Unknown export format."))
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
    idempotent and a second delivery of a running job joins its chunks)."""
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


def _record_filename(note: CrisisSession) -> str:
    return f"session-{note.pk}-{note.started_at:%Y-%m-%d}.pdf"


def export_job_run(*, job_id: int, runner: str = "") -> ExportJob:
    """Work on the job until nothing is left for this runner; safe to call any number of
    times, from any number of workers at once.

    The first run splits the job into chunks and fans it out to EXPORT_PARALLEL_TASKS runners
    (sessions.services.export_chunks). Each runner claims chunks until none is free: a chunk
    whose worker stalled is taken over, and while other runners hold the last chunks this one
    waits, so a worker that dies mid-chunk is replaced within EXPORT_STALL_SECONDS by a runner
    that is still alive. Whoever finds every chunk done assembles the file, exactly once; the job
    is marked done only after its file is in place. `runner` names the delivery (the Celery task
    id: a re-delivery takes back its own dead claims at once); a direct call gets a new name.
    A finished job is returned untouched."""
    runner = runner or f"direct-{uuid.uuid4().hex}"
    job = ExportJob.objects.select_related("requested_by", "clinic").get(pk=job_id)
    if job.is_finished:
        return job
    job, created = export_job_plan(job_id=job_id)
    if created:
        _fan_out(job)
    directory = job_dir(job)
    _private_dir(directory)
    worked = False
    poll = min(1.0, settings.EXPORT_STALL_SECONDS / 5)
    while True:
        claim = chunk_claim(job_id=job.pk, runner=runner)
        if claim is not None:
            if not worked:
                worked = True
                ExportJob.objects.filter(pk=job.pk).update(attempts=F("attempts") + 1)
            _run_chunk(job, directory, claim)
            continue
        token = assembly_claim(job_id=job.pk, runner=runner)
        if token is not None:
            if not worked:
                ExportJob.objects.filter(pk=job.pk).update(attempts=F("attempts") + 1)
            _assemble(job, directory, token)
            break
        if not job_has_unfinished_work(job_id=job.pk):
            break
        # Other runners hold the remaining chunks (or the assembly): wait for them to finish or
        # to stall, rather than leave a dead worker's chunk until the resume sweep.
        time.sleep(poll)
    job.refresh_from_db()
    return job


def _fan_out(job: ExportJob) -> None:
    from sessions.tasks import export_run

    for _extra in range(min(settings.EXPORT_PARALLEL_TASKS, job.chunks.count()) - 1):
        enqueue_on_commit(export_run, job.pk)


def _load_note(job: ExportJob, session_id: int) -> CrisisSession:
    note = record_queryset().filter(pk=session_id, clinic_id=job.clinic_id).first()
    if note is None:
        raise ExportError("the record no longer exists in this clinic")
    if note.status != NoteStatus.SIGNED:
        raise ExportError("the record is not signed (drafts are never exported)")
    return note


def _run_chunk(job: ExportJob, directory: Path, claim: Claim) -> None:
    """Render the chunk's records (a file already on disk, from a holder that stalled, is kept)
    and record their index rows and failures under the claim."""
    rows: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for done, session_id in enumerate(claim.record_ids, start=1):
        if job.format == ExportFormat.FHIR_NDJSON and job.kind == ExportKind.BULK:
            from sessions.services.fhir import fhir_ndjson_record_write

            failure = fhir_ndjson_record_write(job=job, session_id=session_id, directory=directory)
            row: dict[str, Any] = {"session_id": session_id}
        else:
            row, failure = _render_record(job, directory, session_id)
        rows.append(row)
        if failure is not None:
            failures.append(failure)
        if not chunk_heartbeat(claim=claim, done=done):
            return  # taken over after we stalled: the new holder reports these records
    chunk_complete(claim=claim, rows=rows, failures=failures)


def _render_record(
    job: ExportJob, directory: Path, session_id: int
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """One record's PDF (bulk: under records/, with its index row; single: the job's file)."""
    row: dict[str, Any] = {"session_id": session_id}
    try:
        note = _load_note(job, session_id)
        name = _record_filename(note)
        if job.kind == ExportKind.SINGLE:
            target = directory / name
            row["file"] = name
        else:
            _private_dir(directory / "records")
            target = directory / "records" / name
            row.update(_index_row(note, name))
        if not target.exists():
            _write_atomic(target, record_pdf(note=note, generated_by=job.requested_by))
    except SoftTimeLimitExceeded:
        raise  # the whole task ran out of time: not this record's fault; the chunk is re-claimed
    except Exception as exc:  # one bad record must not sink the rest
        logger.exception("Export job %s: record %s failed", job.pk, session_id)
        reason = str(exc) or exc.__class__.__name__
        row.update({"file": "", "error": reason})
        return row, {"session_id": session_id, "client": row.get("client", ""), "error": reason}
    return row, None


def _assemble(job: ExportJob, directory: Path, token: str) -> None:
    """Every chunk is done and this runner holds the assembly: publish the job's one file,
    then mark the job done (or failed, saying why)."""
    chunks = job_chunks_done(job_id=job.pk)
    rows = [row for chunk in chunks for row in chunk.rows]
    failures = [failure for chunk in chunks for failure in chunk.failures]
    try:
        if job.kind == ExportKind.SINGLE:
            if failures:
                raise ExportError(failures[0]["error"])
            for leftover in directory.glob(".*.tmp"):  # a killed render's half-written file
                leftover.unlink(missing_ok=True)
            final = directory / rows[0]["file"]
        elif job.format == ExportFormat.FHIR_NDJSON:
            from sessions.services.fhir import fhir_ndjson_assemble

            final = fhir_ndjson_assemble(job=job, directory=directory, failures=failures)
        else:
            final = _assemble_zip(job, directory, rows, failures, token)
    except Exception as exc:  # the job row must say what went wrong
        logger.exception("Export job %s failed", job.pk)
        ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(
            status=ExportStatus.FAILED,
            error=str(exc)[:2000] or exc.__class__.__name__,
            # A single record's failure is the job's error; a bulk job lists its records.
            failures=failures if job.kind == ExportKind.BULK else [],
            finished_at=timezone.now(),
            updated_at=timezone.now(),
        )
        return
    _finish(job, final, failures=failures)


def _assemble_zip(
    job: ExportJob,
    directory: Path,
    rows: list[dict[str, Any]],
    failures: list[dict[str, Any]],
    token: str,
) -> Path:
    final = directory / f"crisisnotes-export-{job.pk}.zip"
    records_dir = directory / "records"
    # Else a previous assembler published the ZIP and died before marking the job done.
    if not final.exists():
        if len(failures) == len(job.record_ids):
            raise ExportError("No record could be exported: " + failures[0]["error"])
        assembly_heartbeat(job_id=job.pk, token=token)
        _write_atomic(final, _zip_bytes(records_dir, rows))
    # The ZIP holds every PDF: the loose copies go (with any temporary file a killed worker
    # left), so the job leaves exactly one file.
    if records_dir.exists():
        for leftover in records_dir.iterdir():
            leftover.unlink(missing_ok=True)
        records_dir.rmdir()
    return final


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
        # Text, so the row can wait in the chunk's JSON; UTF-8 gives back the exact bytes.
        "content_json": note_content_canonical(note).decode("utf-8"),
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
    # Only a running job: a second assembler (the first stalled, then finished after all) does
    # not move finished_at.
    ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(
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
        raise ExportError(_("This export's file was deleted under the retention policy."))
    if job.status != ExportStatus.DONE or path is None or not path.exists():
        raise ExportError(_("This export has no file to download."))
    if export_link_expired(job):
        raise ExportError(_("This download link has expired; request the export again."))
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
