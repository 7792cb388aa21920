"""The bulk FHIR export runs through the real export task: a real Redis broker and a real
Celery worker process (tests/workers.py) take the job, and its progress reaches the row."""

from __future__ import annotations

import time

import pytest

from sessions.models import ExportJob
from sessions.models.exports import ExportFormat, ExportStatus
from sessions.services.exports import export_bulk_request
from tests.safety.fhir_records import high_risk_note, low_risk_note
from tests.sessions.export_files import stored_zip
from tests.workers import celery_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def test_bulk_fhir_export_runs_in_a_real_worker(counselor, clinic_admin, settings, tmp_path):
    settings.PRIVATE_STORAGE_DIR = tmp_path / "private"
    notes = [high_risk_note(counselor), low_risk_note(counselor)]
    with celery_worker() as worker:
        # Sent after commit, as the view does (enqueue_on_commit; autocommit here).
        job = export_bulk_request(actor=clinic_admin, export_format=ExportFormat.FHIR_NDJSON)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.is_finished:
                break
            time.sleep(0.2)
        assert job.status == ExportStatus.DONE, worker.log()
    assert "exports.run" in worker.log()
    assert job.progress_done == job.progress_total == 2
    with stored_zip(ExportJob.objects.get(pk=job.pk)) as archive:
        encounters = archive.read("Encounter.ndjson").decode().splitlines()
        assert "manifest.json" in archive.namelist()
    assert len(encounters) == len(notes)
