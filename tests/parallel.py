"""What the parallel run (pytest-xdist, `-n $(TEST_WORKERS)` in the Makefile) shares between its
worker processes, and what each keeps to itself.

Each xdist worker is a whole pytest session of its own: its own test database (pytest-django
adds the `_gw0` suffix), its own Celery queue (tests/workers.py), its own live_server port,
Chromium and temporary folders. What would otherwise be shared goes through here: the run's
common temporary folder, where work done once for the whole run (compiled catalogues, a
collectstatic) is done under a file lock by whichever worker gets there first, and the
per-worker suffix for names that are global to the machine (PostgreSQL roles)."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def xdist_worker() -> str:
    """`gw0`, `gw1`, ... in a parallel run; '' in a run without xdist workers."""
    return os.environ.get("PYTEST_XDIST_WORKER", "")


def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A temporary folder common to every worker of this run (this session's own base folder
    without xdist). Each worker's base folder is `<run's base>/popen-gwN`."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if xdist_worker() else base


@contextmanager
def run_lock(tmp_path_factory: pytest.TempPathFactory, name: str) -> Iterator[Path]:
    """Hold the run-wide lock `name` (one worker at a time inside), yielding the run's folder."""
    folder = run_folder(tmp_path_factory)
    with open(folder / f"{name}.lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield folder
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def per_worker(name: str) -> str:
    """`name` for a machine-wide object (a database role): `name_gw1` in worker gw1, so two
    workers never change the same one at once; `name` itself without xdist."""
    worker = xdist_worker()
    return f"{name}_{worker}" if worker else name
