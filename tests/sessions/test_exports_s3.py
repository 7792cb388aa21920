"""Exports in an S3-compatible bucket: a real S3 server process (moto's server mode, tests/s3.py)
behind django-storages, as production configures it with PRIVATE_S3_BUCKET. Files are private
and encrypted at rest, downloads stay checked and audited (streamed, or a presigned link that
expires), and the retention sweep deletes the objects."""

from __future__ import annotations

import io
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from crisisnotes.audit.models import Action, AuditEvent
from sessions.models import ExportJob
from sessions.models.exports import ExportStatus
from sessions.services.exports import (
    export_bulk_request,
    export_job_run,
    export_single_request,
    job_dir,
    job_file,
    job_files,
)
from sessions.services.retention import export_files_purge
from tests.conftest import login
from tests.factories import NoteFactory
from tests.s3 import S3Server, s3_server

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def s3() -> Iterator[S3Server]:
    with s3_server() as server:
        yield server


class Bucket:
    """A fresh bucket of the S3 server, set as the private storage for one test."""

    def __init__(self, server: S3Server, name: str) -> None:
        self.server, self.name, self.client = server, name, server.client()

    def keys(self, prefix: str = "") -> list[str]:
        listed = self.client.list_objects_v2(Bucket=self.name, Prefix=prefix)
        return sorted(item["Key"] for item in listed.get("Contents", []))

    def head(self, key: str) -> dict[str, Any]:
        return self.client.head_object(Bucket=self.name, Key=key)

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()

    def anonymous_get(self, key: str) -> int:
        """The status an unsigned GET of the object gets (what a leaked plain URL would)."""
        url = f"{self.server.endpoint_url}/{self.name}/{urllib.parse.quote(key)}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310  (our server)
                return int(response.status)
        except urllib.error.HTTPError as exc:
            return exc.code


@pytest.fixture
def bucket(s3: S3Server, settings: Any, tmp_path: Path) -> Bucket:
    name = s3.new_bucket()
    settings.PRIVATE_STORAGE_DIR = tmp_path / "private"  # must stay empty: files go to S3
    settings.PRIVATE_S3_BUCKET = name
    settings.STORAGES = {**settings.STORAGES, "private": s3.storage_config(name)}
    return Bucket(s3, name)


def _no_local_files(settings: Any) -> bool:
    folder = Path(settings.PRIVATE_STORAGE_DIR)
    return not folder.exists() or not any(p.is_file() for p in folder.rglob("*"))


def test_a_single_record_pdf_is_a_private_encrypted_object(counselor, bucket, settings):
    note = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    job = export_job_run(job_id=export_single_request(actor=counselor, note=note).pk)
    assert job.status == ExportStatus.DONE, job.error
    key = job_file(job)
    assert key == f"{job_dir(job)}/session-{note.pk}-{note.started_at:%Y-%m-%d}.pdf"
    assert bucket.keys() == [key] == job_files(job)
    assert bucket.read(key).startswith(b"%PDF")
    assert bucket.head(key)["ServerSideEncryption"] == "AES256"
    grants = bucket.client.get_object_acl(Bucket=bucket.name, Key=key)["Grants"]
    assert [g["Grantee"]["Type"] for g in grants] == ["CanonicalUser"]  # the owner alone
    assert bucket.anonymous_get(key) == 403
    assert _no_local_files(settings)


def test_the_anonymous_check_can_fail_on_a_public_object(bucket):
    """Control for the 403 above: the same server serves an object made public."""
    key = "control/public.txt"
    bucket.client.put_object(Bucket=bucket.name, Key=key, Body=b"x", ACL="public-read")
    assert bucket.anonymous_get(key) == 200


def test_a_bulk_zip_is_one_encrypted_object_once_assembled(counselor, clinic_admin, bucket):
    notes = [NoteFactory.create(signed=True, high_risk=True, author=counselor) for _ in range(3)]
    job = export_job_run(job_id=export_bulk_request(actor=clinic_admin).pk)
    assert job.status == ExportStatus.DONE, job.error
    # The per-record PDFs went into the ZIP and were deleted from the bucket.
    assert bucket.keys() == [f"{job_dir(job)}/crisisnotes-export-{job.pk}.zip"]
    key = job_file(job)
    assert bucket.head(key)["ServerSideEncryption"] == "AES256"
    assert bucket.anonymous_get(key) == 403
    with zipfile.ZipFile(io.BytesIO(bucket.read(key))) as archive:
        pdfs = sorted(n for n in archive.namelist() if n.endswith(".pdf"))
    assert pdfs == sorted(f"session-{n.pk}-{n.started_at:%Y-%m-%d}.pdf" for n in notes)


def test_a_download_is_streamed_through_the_app_and_audited(
    client, counselor, clinic_admin, bucket
):
    NoteFactory.create(signed=True, high_risk=True, author=counselor)
    job = export_job_run(job_id=export_bulk_request(actor=clinic_admin).pk)
    login(client, clinic_admin)
    response = client.get(reverse("crisis_sessions:export_download", args=[job.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert f"crisisnotes-export-{job.pk}.zip" in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == bucket.read(job_file(job))
    downloads = AuditEvent.objects.filter(action=Action.DOWNLOAD, actor=clinic_admin)
    # The job's download and its record's, each once (a note and a job may share an id).
    assert (
        downloads.filter(object_type="crisis_sessions.exportjob", object_id=str(job.pk)).count()
        == 1
    )
    assert downloads.filter(object_type="crisis_sessions.crisissession").count() == 1


def test_a_presigned_download_redirects_to_an_expiring_link_after_the_audit(
    client, counselor, bucket, settings
):
    settings.EXPORT_DOWNLOAD = "presigned"
    note = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    job = export_job_run(job_id=export_single_request(actor=counselor, note=note).pk)
    login(client, counselor)
    response = client.get(reverse("crisis_sessions:export_download", args=[job.pk]))
    assert response.status_code == 302
    url = response["Location"]
    assert url.startswith(bucket.server.endpoint_url + "/")
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    # SigV4 says how long the link lives; SigV2 says until when.
    if "X-Amz-Expires" in query:
        assert int(query["X-Amz-Expires"][0]) == settings.EXPORT_PRESIGNED_SECONDS
    else:
        expires = int(query["Expires"][0])
        assert expires <= timezone.now().timestamp() + settings.EXPORT_PRESIGNED_SECONDS + 5
    assert AuditEvent.objects.filter(
        action=Action.DOWNLOAD,
        actor=counselor,
        object_type="crisis_sessions.exportjob",
        object_id=str(job.pk),
    ).exists()
    with urllib.request.urlopen(url, timeout=10) as fetched:  # noqa: S310  (our server)
        assert fetched.read() == bucket.read(job_file(job))
        assert "attachment" in fetched.headers["Content-Disposition"]


@pytest.mark.parametrize("mode", ["stream", "presigned"])
def test_someone_without_access_gets_neither_the_file_nor_a_link(
    client, counselor, teammate, outsider, bucket, settings, mode
):
    settings.EXPORT_DOWNLOAD = mode
    note = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    job = export_job_run(job_id=export_single_request(actor=counselor, note=note).pk)
    for other in (teammate, outsider):  # another counselor's job; another clinic's
        login(client, other)
        response = client.get(reverse("crisis_sessions:export_download", args=[job.pk]))
        assert response.status_code == 404
        assert "Location" not in response
    assert not AuditEvent.objects.filter(action=Action.DOWNLOAD).exists()


def test_the_retention_sweep_deletes_the_objects(counselor, clinic_admin, bucket, settings):
    NoteFactory.create(signed=True, high_risk=True, author=counselor)
    old = export_job_run(job_id=export_bulk_request(actor=clinic_admin).pk)
    recent = export_job_run(job_id=export_bulk_request(actor=clinic_admin).pk)
    aged = timezone.now() - timedelta(hours=settings.EXPORT_RETENTION_HOURS + 1)
    ExportJob.objects.filter(pk=old.pk).update(finished_at=aged)
    assert bucket.keys() == sorted([old.file_path, recent.file_path])
    assert export_files_purge() == 1
    assert bucket.keys() == [job_file(recent)]
    old.refresh_from_db()
    assert old.purged_at is not None
    assert AuditEvent.objects.filter(action=Action.DELETE, object_id=str(old.pk)).exists()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_writes_the_bulk_zip_to_the_bucket(counselor, clinic_admin, bucket, s3):
    """The worker process reads the same PRIVATE_S3_* variables production sets."""
    from tests.workers import celery_worker

    notes = [NoteFactory.create(signed=True, high_risk=True, author=counselor) for _ in range(2)]
    with celery_worker(extra_env=s3.worker_env(bucket.name)) as worker:
        job = export_bulk_request(actor=clinic_admin)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not job.is_finished:
            time.sleep(0.2)
            job.refresh_from_db()
        assert job.status == ExportStatus.DONE, worker.log()
    assert bucket.keys() == [job_file(job)]
    assert bucket.head(job_file(job))["ServerSideEncryption"] == "AES256"
    with zipfile.ZipFile(io.BytesIO(bucket.read(job_file(job)))) as archive:
        assert len([n for n in archive.namelist() if n.endswith(".pdf")]) == len(notes)
