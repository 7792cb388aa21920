"""Where an export job's files are kept: names in the private storage (crisisnotes/storage.py),
all under `exports/<job id>/`, so a job's files are found, and deleted, by that prefix. A job
leaves exactly one file, `ExportJob.file_path`; the per-record files of a bulk job live under
`records/` (PDF) or `bundles/` (FHIR) until the assembler has put them in the ZIP."""

from __future__ import annotations

from django.core.files.base import ContentFile, File
from django.core.files.storage import Storage

from crisisnotes.storage import (
    PrivateFileSystemStorage,
    private_storage,
    storage_delete_tree,
    storage_walk,
)
from sessions.models import ExportJob

EXPORTS_DIR = "exports"


def export_storage() -> Storage:
    return private_storage()


def job_dir(job: ExportJob) -> str:
    """The storage prefix of the job's files."""
    return f"{EXPORTS_DIR}/{job.pk}"


def job_file(job: ExportJob) -> str | None:
    """The storage name of the job's finished file, if any."""
    return job.file_path or None


def job_files(job: ExportJob) -> list[str]:
    """Every file stored for the job (its file, and while it runs its per-record files)."""
    return storage_walk(export_storage(), job_dir(job))


def file_exists(name: str) -> bool:
    return export_storage().exists(name)


def file_write(name: str, data: bytes) -> None:
    """Store `data` whole under `name` (replacing a file of that name): readers and re-runs see
    either no file or the whole file, never a half-written one."""
    saved = export_storage().save(name, ContentFile(data))
    if saved != name:  # a storage that renames instead of replacing would lose the link
        raise RuntimeError(f"the private storage stored {name!r} as {saved!r}")


def file_read(name: str) -> bytes:
    with export_storage().open(name, "rb") as fh:
        return fh.read()


def job_files_keep_only(job: ExportJob, keep: str) -> None:
    """Delete every file of the job but `keep`: the per-record files once the ZIP holds them,
    and anything a killed writer left (a temporary file on disk), so a job leaves one file."""
    storage = export_storage()
    for name in job_files(job):
        if name != keep:
            storage.delete(name)
    if isinstance(storage, PrivateFileSystemStorage):
        for folder in storage.listdir(job_dir(job))[0]:
            storage.delete_folder(f"{job_dir(job)}/{folder}")


def job_files_delete(job: ExportJob) -> int:
    """Delete every file of the job; returns how many there were."""
    return storage_delete_tree(export_storage(), job_dir(job))


def export_file_open(name: str) -> File:
    """The stored file, open for reading (the download view streams it; FileResponse closes
    it)."""
    return export_storage().open(name, "rb")
