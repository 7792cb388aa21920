"""Retention of exported files: the purge deletes expired files and keeps the job (marked purged,
audited); files and folders are owner-only; the command and the beat task do the same."""

from __future__ import annotations

import io
import stat
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import Action, AuditEvent
from sessions.models import ExportJob
from sessions.services.exports import (
    ExportError,
    export_bulk_request,
    export_download_record,
    export_job_run,
    job_dir,
    job_file,
    job_files,
)
from sessions.services.retention import export_files_purge
from tests.factories import NoteFactory
from tests.sessions.export_files import on_disk


@pytest.fixture
def private_dir(settings: Any, tmp_path: Path) -> Path:
    settings.PRIVATE_STORAGE_DIR = tmp_path / "private"
    settings.EXPORT_RETENTION_HOURS = 72
    return settings.PRIVATE_STORAGE_DIR


def _finished_export(admin: User, counselor: User) -> ExportJob:
    NoteFactory.create(signed=True, high_risk=True, author=counselor)
    job = export_job_run(job_id=export_bulk_request(actor=admin).pk)
    assert job.status == "done"
    return job


def _age(job: ExportJob, hours: float) -> ExportJob:
    ExportJob.objects.filter(pk=job.pk).update(finished_at=timezone.now() - timedelta(hours=hours))
    return ExportJob.objects.get(pk=job.pk)


@pytest.mark.django_db
def test_purge_deletes_expired_files_and_keeps_the_job(
    private_dir: Path, clinic_admin: User, counselor: User
) -> None:
    old = _age(_finished_export(clinic_admin, counselor), 73)
    recent = _age(_finished_export(clinic_admin, counselor), 71)
    assert job_files(old) == [job_file(old)] and job_files(recent) == [job_file(recent)]

    assert export_files_purge() == 1
    assert job_files(old) == [] and not on_disk(job_dir(old)).exists()
    assert job_files(recent) == [job_file(recent)]
    old.refresh_from_db()
    assert old.purged_at is not None and old.record_ids and old.requested_by == clinic_admin
    event = AuditEvent.objects.get(action=Action.DELETE, object_id=str(old.pk))
    assert "retention" in event.summary and event.actor is None
    with pytest.raises(ExportError, match="retention"):
        export_download_record(actor=clinic_admin, job=old, request=None)
    # Running it again does nothing more.
    assert export_files_purge() == 0
    assert AuditEvent.objects.filter(action=Action.DELETE).count() == 1


@pytest.mark.django_db
def test_a_file_is_never_purged_while_its_link_is_still_valid(
    private_dir: Path, clinic_admin: User, counselor: User, clinic: Any
) -> None:
    clinic.export_link_hours = 100
    clinic.save()
    job = _age(_finished_export(clinic_admin, counselor), 80)
    assert export_files_purge() == 0
    assert job_files(job) == [job_file(job)]
    _age(job, 101)
    assert export_files_purge() == 1


@pytest.mark.django_db
def test_export_files_are_owner_only(
    private_dir: Path, clinic_admin: User, counselor: User
) -> None:
    job = _finished_export(clinic_admin, counselor)
    path = on_disk(job_file(job))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    for folder in (path.parent, path.parent.parent, private_dir):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


@pytest.mark.django_db
def test_purge_exports_command(private_dir: Path, clinic_admin: User, counselor: User) -> None:
    job = _age(_finished_export(clinic_admin, counselor), 100)
    out = io.StringIO()
    call_command("purge_exports", stdout=out)
    assert "Purged the files of 1 export (retention 72 h)." in out.getvalue()
    job.refresh_from_db()
    assert job.purged_at is not None and not on_disk(job_dir(job)).exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_purge_task_runs_in_a_real_worker(
    tmp_path: Path, settings: Any, clinic_admin: User, counselor: User
) -> None:
    from sessions.tasks import exports_purge
    from tests.workers import celery_worker

    settings.PRIVATE_STORAGE_DIR = tmp_path
    job = _age(_finished_export(clinic_admin, counselor), 100)
    env = {"PRIVATE_STORAGE_DIR": str(tmp_path), "EXPORT_RETENTION_HOURS": "72"}
    with celery_worker(extra_env=env) as worker:
        exports_purge.delay()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and ExportJob.objects.get(pk=job.pk).purged_at is None:
            time.sleep(0.2)
        assert ExportJob.objects.get(pk=job.pk).purged_at is not None, worker.log()
    assert not on_disk(job_dir(job)).exists()
