"""Export jobs: requests (signed only, admins for bulk), running (ZIP + CSV index, per-record
failures, idempotent re-runs), and downloads (audited, expiring)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from crisisnotes.audit.models import Action, AuditEvent
from sessions.models import ExportChunk, ExportJob
from sessions.models.exports import WAITING_AFTER, ExportStatus
from sessions.services import export_chunks
from sessions.services.exports import (
    ExportError,
    export_bulk_request,
    export_download_record,
    export_job_run,
    export_jobs_resume,
    export_single_request,
    job_dir,
    job_file,
    job_files,
)
from sessions.services.exports import run as export_run_module
from tests.factories import CrisisSessionFactory, NoteFactory
from tests.sessions.export_files import on_disk, stored_bytes, stored_zip

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_DIR = tmp_path / "private"


def test_single_export_of_a_signed_note_writes_one_pdf(
    counselor, django_capture_on_commit_callbacks
):
    note = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    with django_capture_on_commit_callbacks() as callbacks:
        job = export_single_request(actor=counselor, note=note)
    assert len(callbacks) == 1  # the task is sent after commit
    assert AuditEvent.objects.filter(action=Action.EXPORT, object_id=str(note.pk)).exists()
    job = export_job_run(job_id=job.pk)
    assert job.status == ExportStatus.DONE and job.percent == 100
    assert stored_bytes(job).startswith(b"%PDF")
    assert job_files(job) == [job_file(job)]
    assert on_disk(job_file(job)).stat().st_mode & 0o777 == 0o600


def test_drafts_are_never_exported(counselor):
    draft = CrisisSessionFactory(clinic=counselor.clinic, author=counselor)
    with pytest.raises(ExportError, match="signed"):
        export_single_request(actor=counselor, note=draft)
    assert not ExportJob.objects.exists()


def test_another_clinics_note_cannot_be_exported(counselor, outsider):
    note = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    with pytest.raises(ExportError):
        export_single_request(actor=outsider, note=note)


def test_bulk_export_is_for_clinic_admins_only(counselor):
    NoteFactory.create(signed=True, high_risk=True, author=counselor)
    with pytest.raises(ExportError, match="admins"):
        export_bulk_request(actor=counselor)


def test_bulk_export_filters_and_builds_a_zip_with_a_csv_index(
    counselor, teammate, clinic_admin, outsider
):
    mine = [
        NoteFactory.create(signed=True, author=counselor, screen_risk="high", clinician_risk="high")
        for _ in range(2)
    ]
    NoteFactory.create(signed=True, author=counselor, screen_risk="low", clinician_risk="low")
    NoteFactory.create(signed=True, author=teammate, screen_risk="high", clinician_risk="high")
    NoteFactory.create(
        signed=True, author=outsider, screen_risk="high", clinician_risk="high"
    )  # another clinic: never included
    CrisisSessionFactory(clinic=counselor.clinic, author=counselor, clinician_risk="high")

    job = export_bulk_request(actor=clinic_admin, counselor=counselor, risk_level="high")
    assert sorted(job.record_ids) == sorted(n.pk for n in mine)
    # Audited as a job, and on each record it includes.
    assert AuditEvent.objects.filter(action=Action.EXPORT, object_id=str(job.pk)).exists()
    for note in mine:
        assert AuditEvent.objects.filter(
            action=Action.EXPORT,
            object_type="crisis_sessions.crisissession",
            object_id=str(note.pk),
        ).exists()
    assert job.scope == {"counselor_id": counselor.pk, "risk_level": "high"}
    job = export_job_run(job_id=job.pk)
    assert job.status == ExportStatus.DONE, job.error
    with stored_zip(job) as archive:
        names = archive.namelist()
        index = list(csv.DictReader(io.StringIO(archive.read("index.csv").decode())))
    assert sorted(names) == sorted(
        [
            "index.csv",
            *[f"session-{n.pk}-{n.started_at:%Y-%m-%d}.pdf" for n in mine],
            *[f"session-{n.pk}-{n.started_at:%Y-%m-%d}.content.json" for n in mine],
        ]
    )
    assert {int(row["session_id"]) for row in index} == {n.pk for n in mine}
    assert all(row["status"] == "Signed" and row["content_hash"] for row in index)
    # One file in the job's folder: the ZIP (the loose PDFs went into it).
    assert job_files(job) == [job_file(job)]


def test_bulk_export_by_date_range_and_client(counselor, clinic_admin):
    old = NoteFactory.create(
        signed=True,
        high_risk=True,
        author=counselor,
        started_at=timezone.now() - timedelta(days=40),
    )
    recent = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    job = export_bulk_request(
        actor=clinic_admin, date_from=(timezone.now() - timedelta(days=7)).date()
    )
    assert job.record_ids == [recent.pk]
    job = export_bulk_request(actor=clinic_admin, client_id=old.client_id)
    assert job.record_ids == [old.pk]
    with pytest.raises(ExportError, match="No signed records"):
        export_bulk_request(
            actor=clinic_admin, date_from=(timezone.now() + timedelta(days=1)).date()
        )


def test_a_failing_record_is_named_and_the_rest_are_exported(counselor, clinic_admin, monkeypatch):
    good, bad = (
        NoteFactory.create(signed=True, high_risk=True, author=counselor),
        NoteFactory.create(signed=True, high_risk=True, author=counselor),
    )
    job = export_bulk_request(actor=clinic_admin)
    real = export_run_module.record_pdf

    def flaky(*, note, **kwargs):
        if note.pk == bad.pk:
            raise RuntimeError("the safety section could not be rendered")
        return real(note=note, **kwargs)

    monkeypatch.setattr(export_run_module, "record_pdf", flaky)
    job = export_job_run(job_id=job.pk)
    assert job.status == ExportStatus.DONE
    assert job.failures == [
        {
            "session_id": bad.pk,
            "client": bad.client.alias,
            "error": "the safety section could not be rendered",
        }
    ]
    with stored_zip(job) as archive:
        index = {
            int(r["session_id"]): r
            for r in csv.DictReader(io.StringIO(archive.read("index.csv").decode()))
        }
        assert len([n for n in archive.namelist() if n.endswith(".pdf")]) == 1
    assert index[bad.pk]["error"] == "the safety section could not be rendered"
    assert index[good.pk]["error"] == ""


def test_a_finished_job_is_not_run_again(counselor, clinic_admin, monkeypatch):
    NoteFactory.create(signed=True, high_risk=True, author=counselor)
    job = export_job_run(job_id=export_bulk_request(actor=clinic_admin).pk)
    finished_at = job.finished_at

    def boom(**kwargs):
        raise AssertionError("a finished job rendered again")

    monkeypatch.setattr(export_run_module, "record_pdf", boom)
    again = export_job_run(job_id=job.pk)
    assert again.finished_at == finished_at and again.attempts == 1


def test_a_rerun_after_a_crash_resumes_without_duplicates(counselor, clinic_admin, monkeypatch):
    """The state a SIGKILL leaves behind: job "running", some PDFs written, a half-written
    temporary file. The re-delivered run keeps the finished PDFs, drops the temporary file and
    publishes one ZIP."""
    notes = [NoteFactory.create(signed=True, high_risk=True, author=counselor) for _ in range(3)]
    job = export_bulk_request(actor=clinic_admin)
    records = on_disk(job_dir(job)) / "records"
    records.mkdir(parents=True)
    first = notes[0]
    (records / f"session-{first.pk}-{first.started_at:%Y-%m-%d}.pdf").write_bytes(
        export_run_module.record_pdf(note=first, generated_by=clinic_admin)
    )
    (records / ".half-written.tmp").write_bytes(b"%PDF-trunc")
    # ...and the temporary file of a ZIP whose writer was killed before its rename.
    (records.parent / f".crisisnotes-export-{job.pk}.zip.dead.tmp").write_bytes(b"PK")
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.RUNNING, attempts=1)
    rendered: list[int] = []
    real = export_run_module.record_pdf

    def counting(*, note, **kwargs):
        rendered.append(note.pk)
        return real(note=note, **kwargs)

    monkeypatch.setattr(export_run_module, "record_pdf", counting)
    job = export_job_run(job_id=job.pk)
    assert job.status == ExportStatus.DONE and job.attempts == 2
    assert sorted(rendered) == sorted(n.pk for n in notes[1:])
    assert job_files(job) == [job_file(job)]
    assert [p.name for p in on_disk(job_dir(job)).iterdir()] == [f"crisisnotes-export-{job.pk}.zip"]
    with stored_zip(job) as archive:
        # index.csv, then each record's PDF and canonical content: no duplicates.
        assert len(archive.namelist()) == 1 + 2 * 3


def test_sweep_re_enqueues_only_stale_unfinished_jobs(counselor, clinic_admin, monkeypatch):
    NoteFactory.create(signed=True, high_risk=True, author=counselor)
    stale = export_bulk_request(actor=clinic_admin)
    fresh = export_bulk_request(actor=clinic_admin)
    ExportJob.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - timedelta(minutes=10))
    sent: list[int] = []
    from sessions import tasks

    monkeypatch.setattr(tasks.export_run, "apply_async", lambda args: sent.append(args[0]))
    assert export_jobs_resume() == 1
    assert sent == [stale.pk] and fresh.pk not in sent


def test_download_is_audited_and_expires(counselor, clinic_admin, clinic):
    NoteFactory.create(signed=True, high_risk=True, author=counselor)
    job = export_job_run(job_id=export_bulk_request(actor=clinic_admin).pk)
    path = export_download_record(actor=clinic_admin, job=job, request=None)
    assert job.finished_at is not None
    assert path == job_file(job)
    assert (
        AuditEvent.objects.filter(
            action=Action.DOWNLOAD, object_type="crisis_sessions.exportjob", object_id=str(job.pk)
        ).count()
        == 1
    )
    with (
        time_machine.travel(job.finished_at + timedelta(hours=clinic.export_link_hours, seconds=1)),
        pytest.raises(ExportError, match="expired"),
    ):
        export_download_record(actor=clinic_admin, job=job, request=None)
    assert (
        AuditEvent.objects.filter(
            action=Action.DOWNLOAD, object_type="crisis_sessions.exportjob", object_id=str(job.pk)
        ).count()
        == 1
    )


def test_a_claimed_chunk_is_not_taken_until_its_heartbeat_is_stale(
    counselor, clinic_admin, settings
):
    """A chunk a live worker holds is left to it; once its heartbeat is older than
    EXPORT_STALL_SECONDS another runner takes it over, and the old holder's results no longer
    count (its heartbeat and completion are refused)."""
    NoteFactory.create(signed=True, high_risk=True, author=counselor)
    job = export_bulk_request(actor=clinic_admin)
    export_chunks.export_job_plan(job_id=job.pk)
    first = export_chunks.chunk_claim(job_id=job.pk, runner="worker-a")
    assert first is not None
    assert export_chunks.chunk_claim(job_id=job.pk, runner="worker-b") is None
    assert export_chunks.assembly_claim(job_id=job.pk, runner="worker-b") is None
    later = timezone.now() + timedelta(seconds=settings.EXPORT_STALL_SECONDS + 1)
    with time_machine.travel(later):
        second = export_chunks.chunk_claim(job_id=job.pk, runner="worker-b")
        assert second is not None and second.chunk_id == first.chunk_id
        assert not export_chunks.chunk_heartbeat(claim=first, done=1)
        assert not export_chunks.chunk_complete(claim=first, rows=[], failures=[])
        assert ExportChunk.objects.get(pk=first.chunk_id).done_at is None


def test_a_run_takes_over_a_stalled_chunk_and_finishes_the_job(counselor, clinic_admin):
    """A worker died holding a chunk (claimed, heartbeat a minute old, a PDF half-written):
    the next run re-claims it at once and publishes every record exactly once."""
    notes = [NoteFactory.create(signed=True, high_risk=True, author=counselor) for _ in range(3)]
    job = export_bulk_request(actor=clinic_admin)
    export_chunks.export_job_plan(job_id=job.pk)
    dead = [export_chunks.chunk_claim(job_id=job.pk, runner=f"dead-{i}") for i in range(3)]
    assert all(dead)
    ExportChunk.objects.filter(job=job).update(heartbeat_at=timezone.now() - timedelta(minutes=1))
    (on_disk(job_dir(job)) / "records").mkdir(parents=True)
    (on_disk(job_dir(job)) / "records" / ".half.pdf.tmp").write_bytes(b"%PDF-trunc")
    job = export_job_run(job_id=job.pk)
    assert job.status == ExportStatus.DONE and job.progress_done == 3
    assert job_files(job) == [job_file(job)]
    with stored_zip(job) as archive:
        names = archive.namelist()
        index = list(csv.DictReader(io.StringIO(archive.read("index.csv").decode())))
    assert sorted(int(r["session_id"]) for r in index) == sorted(n.pk for n in notes)
    assert len(names) == len(set(names)) == 1 + 2 * 3
    assert ExportChunk.objects.filter(job=job, attempts=2).count() == 3


def test_the_job_is_split_into_chunks_in_record_order(counselor, clinic_admin, settings):
    settings.EXPORT_PARALLEL_TASKS = 2
    notes = [NoteFactory.create(signed=True, high_risk=True, author=counselor) for _ in range(21)]
    job = export_bulk_request(actor=clinic_admin)
    export_chunks.export_job_plan(job_id=job.pk)
    export_chunks.export_job_plan(job_id=job.pk)  # a second first delivery plans nothing more
    chunks = list(ExportChunk.objects.filter(job=job).order_by("index"))
    assert [len(c.record_ids) for c in chunks] == [2] * 10 + [1]
    assert [i for c in chunks for i in c.record_ids] == job.record_ids
    assert sorted(job.record_ids) == sorted(n.pk for n in notes)


def test_a_job_nothing_moves_on_is_waiting_for_a_worker(counselor, clinic_admin):
    NoteFactory.create(signed=True, high_risk=True, author=counselor)
    job = export_bulk_request(actor=clinic_admin)
    assert not job.waiting_for_worker
    with time_machine.travel(timezone.now() + WAITING_AFTER + timedelta(seconds=1)):
        assert job.waiting_for_worker
        job.progressed_at = timezone.now() - timedelta(seconds=5)
        assert not job.waiting_for_worker


def test_a_bulk_export_audits_its_records_in_one_insert(counselor, clinic_admin):
    """The job's row, then one row per record (naming its client) in a single INSERT."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    notes = [NoteFactory.create(signed=True, high_risk=True, author=counselor) for _ in range(5)]
    with CaptureQueriesContext(connection) as queries:
        job = export_bulk_request(actor=clinic_admin)
    table = AuditEvent._meta.db_table
    inserts = [q["sql"] for q in queries if q["sql"].startswith(f'INSERT INTO "{table}"')]
    assert len(inserts) == 2, inserts
    rows = AuditEvent.objects.filter(
        action=Action.EXPORT, object_type="crisis_sessions.crisissession"
    )
    assert sorted(int(r.object_id) for r in rows) == sorted(n.pk for n in notes)
    assert {r.client_id for r in rows} == {n.client_id for n in notes}
    assert all(f"export {job.pk}" in r.summary for r in rows)
