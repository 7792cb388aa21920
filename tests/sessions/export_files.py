"""Reading an export job's stored files in tests, whatever the private storage is (a folder by
default, the S3 server in tests/sessions/test_exports_s3.py)."""

from __future__ import annotations

import zipfile
from pathlib import Path

from django.conf import settings

from sessions.models import ExportJob
from sessions.services.exports.files import export_file_open, file_read, job_file


def stored_bytes(job: ExportJob) -> bytes:
    name = job_file(job)
    assert name is not None, "the job has no file"
    return file_read(name)


def stored_zip(job: ExportJob) -> zipfile.ZipFile:
    name = job_file(job)
    assert name is not None, "the job has no file"
    return zipfile.ZipFile(export_file_open(name))


def on_disk(name: str) -> Path:
    """Where the default (folder) storage keeps `name`."""
    return Path(settings.PRIVATE_STORAGE_DIR) / name
