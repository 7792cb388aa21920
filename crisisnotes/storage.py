"""Private files (exported records) go through Django's storage API, storage "private" in
settings.STORAGES: this folder-backed storage by default, an S3-compatible bucket (django-storages)
when PRIVATE_S3_BUCKET is set. Nothing here is ever served statically; the download view is the
only way out (docs/production.md "Exported files")."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import FileSystemStorage, Storage, storages

PRIVATE = "private"


def private_storage() -> Storage:
    return storages[PRIVATE]


class PrivateFileSystemStorage(FileSystemStorage):
    """A folder under PRIVATE_STORAGE_DIR (read when used, so a test or a worker can point it
    elsewhere). Exported files are patient records: folders are 0700 and files 0600 from the
    moment they exist (the mode is given to open(), not set afterwards), and every file is
    written under a unique temporary name in its folder and renamed into place, so readers and
    re-runs see either no file or the whole file. Saving a name that exists replaces it, as an
    S3 PUT does: the writers check first, and a second writer wrote the same content."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("file_permissions_mode", 0o600)
        kwargs.setdefault("directory_permissions_mode", 0o700)
        kwargs.setdefault("allow_overwrite", True)
        super().__init__(**kwargs)

    @property
    def base_location(self) -> str:
        return str(getattr(self, "_location", None) or settings.PRIVATE_STORAGE_DIR)

    @property
    def location(self) -> str:
        return os.path.abspath(self.base_location)

    def _save(self, name: str, content: File) -> str:
        full_path = Path(self.path(name))
        self._private_folders(full_path.parent)
        tmp = full_path.with_name(f".{full_path.name}.{uuid.uuid4().hex}.tmp")
        descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as fh:
            for chunk in content.chunks():
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, full_path)
        return str(name).replace("\\", "/")

    def _private_folders(self, folder: Path) -> None:
        root = Path(self.location)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        # mkdir's mode is filtered by the umask and never applies to folders that already existed.
        for each in [folder, *folder.parents]:
            if root not in [each, *each.parents]:
                break
            os.chmod(each, 0o700)

    def delete_folder(self, name: str) -> None:
        """Remove the folder `name` once its files are gone (a bucket has no folders)."""
        folder = Path(self.path(name))
        for each in sorted(folder.rglob("*"), reverse=True):
            if each.is_dir():
                each.rmdir()
        if folder.is_dir():
            folder.rmdir()


def storage_walk(storage: Storage, prefix: str) -> list[str]:
    """Every file stored under the folder `prefix`, as storage names, sorted."""
    try:
        folders, files = storage.listdir(prefix)
    except FileNotFoundError:  # a folder storage without that folder: nothing under it
        return []
    names = [f"{prefix}/{name}" for name in files]
    for folder in folders:
        names.extend(storage_walk(storage, f"{prefix}/{folder}"))
    return sorted(names)


def storage_delete_tree(storage: Storage, prefix: str) -> int:
    """Delete every file under `prefix` (and, on disk, the emptied folders). Returns how many
    files were deleted; deleting what is already gone is not an error."""
    names = storage_walk(storage, prefix)
    for name in names:
        storage.delete(name)
    if isinstance(storage, PrivateFileSystemStorage):
        storage.delete_folder(prefix)
    return len(names)
