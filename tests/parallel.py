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
from typing import Any

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
    with folder_lock(run_folder(tmp_path_factory), name) as folder:
        yield folder


@contextmanager
def folder_lock(folder: Path, name: str) -> Iterator[Path]:
    """Hold the lock `name` of `folder` (a run's folder), yielding the folder."""
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


# Files whose content decides what `migrate` builds: the migrations and the code they import
# (crisisnotes.db's guards, validators, models). A change to any of them builds a new template.
_SCHEMA_SOURCES = ("crisisnotes", "sessions", "safety")


def _schema_digest(root: Path) -> str:
    import hashlib

    import django

    digest = hashlib.sha256(django.get_version().encode())
    for package in _SCHEMA_SOURCES:
        for path in sorted((root / package).rglob("*")):
            if path.suffix in {".py", ".sql"} and "__pycache__" not in path.parts:
                digest.update(str(path.relative_to(root)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def migrated_template(db: dict[str, Any], root: Path) -> str:
    """The name of a PostgreSQL database holding this checkout's fully migrated schema, built
    by `manage.py migrate` the first time it is asked for (the caller holds the run's lock).

    Each worker's test database is then a copy of it (CREATE DATABASE ... TEMPLATE, about a
    second) and pytest-django's own `migrate` finds nothing left to apply: one migration run for
    the whole parallel run instead of one per worker, each of which costs half a minute of CPU
    on this machine (Django renders the model states of ~90 migrations). The copy is the same
    schema, triggers, functions and migration records the in-process run would have built."""
    import subprocess
    import sys
    from urllib.parse import quote

    import psycopg

    base = db.get("TEST", {}).get("NAME") or f"test_{db['NAME']}"
    base = base.removesuffix(f"_{xdist_worker()}") if xdist_worker() else base
    name = f"{base}_tmpl_{_schema_digest(root)}"[:63]
    building = f"{name[:54]}_building"
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = f"{auth}@" if auth else ""
    server = f"postgres://{host}{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
    with psycopg.connect(f"{server}/postgres", autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if found:
            return name
        conn.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{building}"')
        env = {**os.environ, "DATABASE_URL": f"{server}/{building}", "DJANGO_ENV": "test"}
        env.pop("DATABASE_OWNER_URL", None)
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--run-syncdb", "--noinput", "-v0"],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
        )
        if migrate.returncode != 0:
            conn.execute(f'DROP DATABASE IF EXISTS "{building}" WITH (FORCE)')
            raise RuntimeError(f"migrating the test template failed:\n{migrate.stderr}")
        conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
        # Templates of earlier schemas are of no further use.
        stale = conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE %s AND datname <> %s",
            [f"{base}_tmpl_%", name],
        ).fetchall()
        for (old,) in stale:
            conn.execute(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')
    return name


def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory, root: Path) -> Path:
    """The embedded default's SQLite file after `manage.py migrate` on an empty folder, built
    once per run (the tests that check what migrate leaves on SQLite each start from a copy of
    it: a SQLite migrate rebuilds tables dozens of times and costs a minute here). A parallel
    run's controller starts building it in the background as the run begins
    (`start_background_builds`); a worker that needs it first waits for that build's lock."""
    return build_migrated_sqlite(run_folder(tmp_path_factory), root)


def build_migrated_sqlite(folder: Path, root: Path) -> Path:
    import subprocess
    import sys

    with folder_lock(folder, "migrated-sqlite"):
        var = folder / "migrated-sqlite"
        database = var / "crisisnotes.sqlite3"
        done = var / "migrated"
        if not done.exists():
            env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_ENV"}}
            env["CRISISNOTES_VAR_DIR"] = str(var)
            migrate = subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput"],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
            )
            assert migrate.returncode == 0, migrate.stderr
            done.touch()
    return database


# Work done once per run that the run's first minute can do in the background: while one
# worker migrates the PostgreSQL template, the others wait on its lock and a core is idle.
_BACKGROUND_BUILDS = {"migrated-sqlite": ("test_db_guards.py", "test_validators.py")}


def start_background_builds(config: pytest.Config, root: Path) -> list[Any]:
    """In a parallel run's controller, start (at low priority) the run-wide builds that the
    selected tests will need, each as `python -m tests.parallel <build> <run folder>`; the
    workers' fixtures take the same lock and find the build done, or wait for it. Returns the
    processes, for `stop_background_builds`."""
    import subprocess
    import sys

    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return []
    folder = config._tmp_path_factory.getbasetemp()
    selected = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    started = []
    for build, files in _BACKGROUND_BUILDS.items():
        targets = [root / "tests" / name for name in files]
        if any(t == s or s in t.parents for t in targets for s in selected):
            command = [sys.executable, "-m", "tests.parallel", build, str(folder)]
            started.append(
                subprocess.Popen(
                    command, cwd=root, start_new_session=True, preexec_fn=lambda: os.nice(10)
                )
            )
    return started


def stop_background_builds(processes: list[Any]) -> None:
    """Wait for the background builds (a run that ended early stops them instead)."""
    import signal

    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # its own group: the migrate it started too
        process.wait()


if __name__ == "__main__":
    import sys

    build, run = sys.argv[1], Path(sys.argv[2])
    if build == "migrated-sqlite":
        build_migrated_sqlite(run, Path(__file__).resolve().parent.parent)
