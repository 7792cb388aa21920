"""Running an export job (the worker side): PDF exports of signed session records, single or
bulk (a ZIP of PDFs plus a CSV index), or FHIR NDJSON (sessions/services/exports/fhir_ndjson.py).

The ExportJob row and its ExportChunk rows are the source of truth. A job is split into chunks
that any number of workers claim (sessions/services/export_chunks.py) and assembled into its one
file by whoever finds every chunk done. `export_job_run` may be delivered any number of times
(the fan-out, acks_late re-delivery after a worker died, the resume sweep re-enqueuing jobs Redis
forgot), so it is idempotent: every file is stored whole or not at all (crisisnotes/storage.py),
a record whose PDF is already stored is not rendered again, a chunk's results count only under
its current claim, and a finished job is left alone.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import time
import uuid
import zipfile
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db.models import F
from django.utils import timezone

from sessions.hashing import note_content_canonical
from sessions.models import CrisisSession, ExportJob
from sessions.models.exports import ExportFormat, ExportKind, ExportStatus
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
from sessions.services.exports.dispatch import export_run_on_commit
from sessions.services.exports.fhir_ndjson import fhir_ndjson_assemble, fhir_ndjson_record_write
from sessions.services.exports.files import (
    file_exists,
    file_read,
    file_write,
    job_dir,
    job_files_keep_only,
)
from sessions.services.exports.record import (
    ExportError,
    record_for_job,
    record_pdf,
    record_status_label,
)

logger = logging.getLogger(__name__)


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
    worked = False
    poll = min(1.0, settings.EXPORT_STALL_SECONDS / 5)
    while True:
        claim = chunk_claim(job_id=job.pk, runner=runner)
        if claim is not None:
            if not worked:
                worked = True
                ExportJob.objects.filter(pk=job.pk).update(attempts=F("attempts") + 1)
            _run_chunk(job, claim)
            continue
        token = assembly_claim(job_id=job.pk, runner=runner)
        if token is not None:
            if not worked:
                ExportJob.objects.filter(pk=job.pk).update(attempts=F("attempts") + 1)
            _assemble(job, token)
            break
        if not job_has_unfinished_work(job_id=job.pk):
            break
        # Other runners hold the remaining chunks (or the assembly): wait for them to finish or
        # to stall, rather than leave a dead worker's chunk until the resume sweep.
        time.sleep(poll)
    job.refresh_from_db()
    return job


def _fan_out(job: ExportJob) -> None:
    for _ in range(min(settings.EXPORT_PARALLEL_TASKS, job.chunks.count()) - 1):
        export_run_on_commit(job.pk)


def _run_chunk(job: ExportJob, claim: Claim) -> None:
    """Render the chunk's records (a file already stored, by a holder that stalled, is kept)
    and record their index rows and failures under the claim."""
    rows: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for done, session_id in enumerate(claim.record_ids, start=1):
        if job.format == ExportFormat.FHIR_NDJSON and job.kind == ExportKind.BULK:
            failure = fhir_ndjson_record_write(job=job, session_id=session_id)
            row: dict[str, Any] = {"session_id": session_id}
        else:
            row, failure = _render_record(job, session_id)
        rows.append(row)
        if failure is not None:
            failures.append(failure)
        if not chunk_heartbeat(claim=claim, done=done):
            return  # taken over after we stalled: the new holder reports these records
    chunk_complete(claim=claim, rows=rows, failures=failures)


def _render_record(job: ExportJob, session_id: int) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """One record's PDF (bulk: under records/, with its index row; single: the job's file)."""
    row: dict[str, Any] = {"session_id": session_id}
    try:
        note = record_for_job(clinic_id=job.clinic_id, session_id=session_id)
        name = _record_filename(note)
        if job.kind == ExportKind.SINGLE:
            target = f"{job_dir(job)}/{name}"
            row["file"] = name
        else:
            target = f"{job_dir(job)}/records/{name}"
            row.update(_index_row(note, name))
        if not file_exists(target):
            file_write(target, record_pdf(note=note, generated_by=job.requested_by))
    except SoftTimeLimitExceeded:
        raise  # the whole task ran out of time: not this record's fault; the chunk is re-claimed
    except Exception as exc:  # one bad record must not sink the rest
        logger.exception("Export job %s: record %s failed", job.pk, session_id)
        reason = str(exc) or exc.__class__.__name__
        row.update({"file": "", "error": reason})
        return row, {"session_id": session_id, "client": row.get("client", ""), "error": reason}
    return row, None


def _assemble(job: ExportJob, token: str) -> None:
    """Every chunk is done and this runner holds the assembly: publish the job's one file,
    then mark the job done (or failed, saying why)."""
    chunks = job_chunks_done(job_id=job.pk)
    rows = [row for chunk in chunks for row in chunk.rows]
    failures = [failure for chunk in chunks for failure in chunk.failures]
    try:
        if job.kind == ExportKind.SINGLE:
            if failures:
                raise ExportError(failures[0]["error"])
            final = f"{job_dir(job)}/{rows[0]['file']}"
        elif job.format == ExportFormat.FHIR_NDJSON:
            final = fhir_ndjson_assemble(job=job, failures=failures)
        else:
            final = _assemble_zip(job, rows, failures, token)
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
    # The file holds everything: the per-record files go, with anything a killed writer left.
    job_files_keep_only(job, final)
    _finish(job, final, failures=failures)


def _assemble_zip(
    job: ExportJob,
    rows: list[dict[str, Any]],
    failures: list[dict[str, Any]],
    token: str,
) -> str:
    final = f"{job_dir(job)}/crisisnotes-export-{job.pk}.zip"
    records_dir = f"{job_dir(job)}/records"
    # Else a previous assembler published the ZIP and died before marking the job done.
    if not file_exists(final):
        if len(failures) == len(job.record_ids):
            raise ExportError("No record could be exported: " + failures[0]["error"])
        assembly_heartbeat(job_id=job.pk, token=token)
        file_write(final, _zip_bytes(records_dir, rows))
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


def _zip_bytes(records_dir: str, rows: list[dict[str, Any]]) -> bytes:
    """The ZIP: index.csv, then each record's PDF and its canonical content JSON. The index
    carries each PDF's SHA-256 and each record's content hash, so a recipient checks both."""
    pdfs: dict[str, bytes] = {}
    for row in rows:
        if row.get("file"):
            pdfs[row["file"]] = file_read(f"{records_dir}/{row['file']}")
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


def _finish(job: ExportJob, name: str, *, failures: list[dict[str, Any]]) -> None:
    now = timezone.now()
    # Only a running job: a second assembler (the first stalled, then finished after all) does
    # not move finished_at.
    ExportJob.objects.filter(pk=job.pk, status=ExportStatus.RUNNING).update(
        status=ExportStatus.DONE,
        file_path=name,
        progress_done=job.progress_total,
        failures=failures,
        finished_at=now,
        updated_at=now,
    )
