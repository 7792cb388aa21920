"""One bulk export job rendered by two real worker processes at once, one of them SIGKILLed
half-way: the survivor takes the dead worker's chunk over within EXPORT_STALL_SECONDS (not after
the broker's visibility timeout) and the ZIP holds every record exactly once, with an index
whose hashes match the files. Real Redis (private), real PostgreSQL, real Celery workers, and
the production stall time (settings.EXPORT_STALL_SECONDS, 30 s): the issue's "re-claimed
within a minute" is measured as deployed, not with a shortened timeout."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import signal
import time

import pytest

from sessions.models import CrisisSession, ExportChunk, ExportJob
from sessions.models.exports import ExportFormat, ExportStatus
from sessions.services.exports import export_bulk_request, job_file, job_files
from tests.factories import NoteFactory
from tests.safety.fhir_records import low_risk_note
from tests.sessions.export_files import stored_zip
from tests.workers import Worker, celery_worker, private_redis

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def _wait(predicate, workers: list[Worker], what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    logs = "\n\n".join(w.log() for w in workers)
    raise AssertionError(f"timed out waiting for {what}:\n{logs}")


def _task_ids(worker: Worker) -> set[str]:
    return set(re.findall(r"Task exports\.run\[([0-9a-f-]+)\] received", worker.log()))


def _env(settings) -> dict[str, str]:
    return {
        "PRIVATE_STORAGE_DIR": str(settings.PRIVATE_STORAGE_DIR),
        "EXPORT_PARALLEL_TASKS": "2",
    }


def _held_by(worker: Worker, job: ExportJob) -> list[ExportChunk]:
    ids = _task_ids(worker)
    return [
        chunk
        for chunk in ExportChunk.objects.filter(job=job, done_at__isnull=True)
        if chunk.claimed_by in ids and chunk.done_count < len(chunk.record_ids)
    ]


def _kill_while_both_work(first: Worker, second: Worker, job: ExportJob) -> ExportChunk:
    """SIGKILL `first` at a moment it holds a chunk while `second` also has one."""
    _wait(
        lambda: bool(_held_by(first, job)) and bool(_task_ids(second)),
        [first, second],
        "both workers on the job",
    )
    victim = _held_by(first, job)[0]
    assert victim.claimed_by in _task_ids(first)
    first.kill(signal.SIGKILL)
    assert first.process.returncode == -signal.SIGKILL
    return victim


def test_two_workers_share_one_pdf_job_and_a_sigkilled_one_loses_no_record(
    counselor, clinic_admin, settings, tmp_path
):
    settings.PRIVATE_STORAGE_DIR = tmp_path / "private"
    notes = [NoteFactory.create(signed=True, high_risk=True, author=counselor) for _ in range(16)]
    env = _env(settings)
    with (
        private_redis() as url,
        celery_worker(broker_url=url, extra_env=env, name="first") as first,
        celery_worker(broker_url=url, extra_env=env, name="second") as second,
    ):
        job = export_bulk_request(actor=clinic_admin)
        victim = _kill_while_both_work(first, second, job)
        killed_at = time.monotonic()
        _wait(
            lambda: ExportChunk.objects.get(pk=victim.pk).claimed_by in _task_ids(second),
            [second],
            "the dead worker's chunk taken over",
        )
        taken_over_in = time.monotonic() - killed_at
        _wait(lambda: ExportJob.objects.get(pk=job.pk).is_finished, [second], "the job", 300)
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE, job.error
    assert job.failures == [] and job.progress_done == job.progress_total == len(notes)
    # The dead worker's chunk was taken over by the survivor, not left to the visibility
    # timeout (an hour) or the resume sweep (minutes).
    victim.refresh_from_db()
    assert victim.attempts >= 2 and victim.claimed_by in _task_ids(second)
    # Within a minute of the kill: the stall time (30 s) and the survivor's next poll (1 s),
    # not the broker's visibility timeout (an hour) nor the resume sweep.
    assert taken_over_in < 60
    # The first worker held a chunk of this job when it died; the second rendered the rest.
    assert ExportChunk.objects.filter(job=job, claimed_by__in=_task_ids(second)).count() >= 2
    assert job_files(job) == [job_file(job)]
    with stored_zip(job) as archive:
        names = archive.namelist()
        index = list(csv.DictReader(io.StringIO(archive.read("index.csv").decode())))
        contents = {name: archive.read(name) for name in names}
    assert len(names) == len(set(names)) == 2 * len(notes) + 1  # index, PDFs, content JSONs
    assert sorted(int(row["session_id"]) for row in index) == sorted(n.pk for n in notes)
    stored = {n.pk: n for n in CrisisSession.objects.filter(pk__in=[n.pk for n in notes])}
    for row in index:
        assert row["error"] == ""
        assert hashlib.sha256(contents[row["file"]]).hexdigest() == row["file_sha256"]
        content_hash = hashlib.sha256(contents[row["content_file"]]).hexdigest()
        assert content_hash == row["content_hash"] == stored[int(row["session_id"])].content_hash


def test_two_workers_run_one_fhir_job_with_every_record_once(
    counselor, clinic_admin, settings, tmp_path
):
    """FHIR jobs take the same chunks (a Bundle file per record) and the assembler writes each
    resource once. (Bundles build too fast to kill a worker reliably mid-chunk; the take-over
    is the same code as the PDF job's above, and tests/sessions/test_fhir_exports.py covers a
    FHIR chunk taken over after its runner died.)"""
    settings.PRIVATE_STORAGE_DIR = tmp_path / "private"
    notes = [low_risk_note(counselor) for _ in range(12)]
    env = _env(settings)
    with (
        private_redis() as url,
        celery_worker(broker_url=url, extra_env=env, name="first") as first,
        celery_worker(broker_url=url, extra_env=env, name="second") as second,
    ):
        job = export_bulk_request(actor=clinic_admin, export_format=ExportFormat.FHIR_NDJSON)
        _wait(lambda: ExportJob.objects.get(pk=job.pk).is_finished, [first, second], "the job")
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE, job.error
    assert job.failures == [] and job.progress_done == len(notes)
    assert ExportChunk.objects.filter(job=job, done_at__isnull=True).count() == 0
    assert job_files(job) == [job_file(job)]
    with stored_zip(job) as archive:
        encounters = archive.read("Encounter.ndjson").decode().splitlines()
        assert "OperationOutcome.ndjson" not in archive.namelist()
    ids = [line.split('"id":"', 1)[1].split('"', 1)[0] for line in encounters]
    assert len(ids) == len(set(ids)) == len(notes)
