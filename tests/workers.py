"""Real processes for task tests: a Celery worker on a real Redis, and private Redis servers for
fault tests. Everything started here is stopped here, by its own pid."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection

from crisisnotes.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
CELERY = Path(sys.executable).parent / "celery"
GUNICORN = Path(sys.executable).parent / "gunicorn"
# One queue for this test run (set on the app in conftest before anything is sent): workers of
# other runs or of the machine never take our tasks, and ours never take theirs.
SESSION_QUEUE = f"test-{uuid.uuid4().hex[:8]}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_database_url() -> str:
    """The URL of the database this test run uses (pytest-django's test_* database)."""
    db = connection.settings_dict
    user = db.get("USER") or "postgres"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{user}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


@contextmanager
def gunicorn(*args: str, stderr: Path | None = None) -> Iterator[str]:
    """gunicorn with the project's gunicorn.conf.py and one worker on this run's database (plus
    `args`, e.g. an access log file); yields its base URL once /healthz answers, stops it by its
    process group. `stderr`: a file for its error log (the workers' logging too)."""
    port = free_port()
    env = {
        **os.environ,
        "DJANGO_ENV": "test",
        "DATABASE_URL": test_database_url(),
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    err = stderr.open("w") if stderr is not None else subprocess.DEVNULL
    proc = subprocess.Popen(
        [
            str(GUNICORN),
            "crisisnotes.wsgi:application",
            "--config=gunicorn.conf.py",
            f"--bind=127.0.0.1:{port}",
            "--workers=1",
            *args,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=err,
        start_new_session=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{base}/healthz", timeout=2)  # noqa: S310
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.2)
        yield base
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
        if stderr is not None:
            err.close()


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log_path: Path
    queue: str

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, sig)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                # A warm shutdown still finishing its task (a PDF job on a loaded machine):
                # the test is over, so end the worker rather than fail on leaving.
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)


def _wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise TimeoutError(f"timed out waiting for {what}")


@contextmanager
def celery_worker(
    *,
    broker_url: str | None = None,
    queue: str | None = None,
    extra_env: dict[str, str] | None = None,
    pool: str = "solo",
    concurrency: int = 1,
    name: str = "",
) -> Iterator[Worker]:
    """Start `celery worker` in its own process group against the test database and a real
    broker (this process sends to the same broker meanwhile), and stop the worker afterwards.
    It consumes the run's SESSION_QUEUE, where `.delay()` sends during tests.

    Use with @pytest.mark.django_db(transaction=True): the worker sees only committed rows.
    """
    broker_url = broker_url or settings.CELERY_BROKER_URL
    assert broker_url.startswith("redis://"), "task tests need a real Redis broker"
    queue = queue or SESSION_QUEUE
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115  (the worker writes it until stopped)
        prefix="celery-worker-", suffix=".log", delete=False
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crisisnotes.settings",
        "DJANGO_ENV": "test",
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": broker_url,
        "REDIS_URL": broker_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "EMAIL_URL": os.environ.get("EMAIL_URL", "dummymail://"),
        "PRIVATE_STORAGE_DIR": str(settings.PRIVATE_STORAGE_DIR),
        **(extra_env or {}),
    }
    process = subprocess.Popen(
        [
            str(CELERY),
            "-A",
            "crisisnotes",
            "worker",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-mingle",
            "--without-gossip",
            "--loglevel=INFO",
            "-n",
            f"{name or queue}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    worker = Worker(process=process, log_path=Path(log_file.name), queue=queue)
    old_broker = celery_app.conf.broker_url
    # Celery reads $CELERY_BROKER_URL before its own setting, so both point at this broker.
    old_env = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = broker_url
    celery_app.conf.broker_url = broker_url  # type: ignore[misc]
    _reset_producer_pool()
    try:
        _wait_for(lambda: " ready." in worker.log() or process.poll() is not None, 30, "worker")
        if process.poll() is not None:
            raise RuntimeError("worker exited:\n" + worker.log())
        yield worker
    finally:
        worker.kill(signal.SIGTERM)
        celery_app.conf.broker_url = old_broker  # type: ignore[misc]
        if old_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = old_env
        _reset_producer_pool()


@contextmanager
def celery_beat(
    *, broker_url: str, queue: str | None = None, extra_env: dict[str, str] | None = None
) -> Iterator[Worker]:
    """Start `celery beat` (the schedule in crisisnotes/celery.py) sending to `queue` on a
    real broker, with its schedule file in a temporary folder; stop it afterwards."""
    queue = queue or SESSION_QUEUE
    folder = Path(tempfile.mkdtemp(prefix="celery-beat-"))
    log_path = folder / "beat.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "crisisnotes.settings",
        "DJANGO_ENV": "test",
        "DATABASE_URL": test_database_url(),
        "CELERY_BROKER_URL": broker_url,
        "REDIS_URL": broker_url,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        **(extra_env or {}),
    }
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "crisisnotes",
                "beat",
                "--loglevel=INFO",
                "--schedule",
                str(folder / "schedule"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    beat = Worker(process=process, log_path=log_path, queue=queue)
    try:
        yield beat
    finally:
        beat.kill(signal.SIGTERM)


def _reset_producer_pool() -> None:
    # The app caches its broker connections and its producer pool (bound to the connection of
    # the first send); drop both so the next send goes to the broker now configured. (kombu
    # keeps one producer pool per connection URL for the whole process, so those stay open.)
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@contextmanager
def private_redis() -> Iterator[str]:
    """A redis-server of our own on a free port, for tests that restart or kill it. Yields its
    URL; `restart_redis(url)` restarts it (emptied: it keeps nothing on disk, like production's)."""
    port = free_port()
    proc = _start_redis(port)
    _redis_procs[port] = proc
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc = _redis_procs.pop(port)
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


_redis_procs: dict[int, subprocess.Popen[bytes]] = {}


def _start_redis(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def up() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False

    _wait_for(up, 10, f"redis on {port}")
    return proc


def restart_redis(url: str) -> None:
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    proc = _redis_procs[port]
    proc.kill()
    proc.wait(timeout=10)
    _redis_procs[port] = _start_redis(port)


def stop_redis(url: str) -> None:
    """Kill the private redis-server behind `url` (by its pid): the broker is down."""
    proc = _redis_procs[int(url.rsplit(":", 1)[1].split("/")[0])]
    proc.kill()
    proc.wait(timeout=10)


def start_redis(url: str) -> None:
    """Start the private redis-server behind `url` again on its port (empty)."""
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    _redis_procs[port] = _start_redis(port)


@contextmanager
def app_broker(url: str) -> Iterator[None]:
    """Point this process's Celery app (what views enqueue with) at `url` for a while."""
    old_broker = celery_app.conf.broker_url
    old_env = os.environ.get("CELERY_BROKER_URL")
    os.environ["CELERY_BROKER_URL"] = url
    celery_app.conf.broker_url = url  # type: ignore[misc]
    _reset_producer_pool()
    try:
        yield
    finally:
        celery_app.conf.broker_url = old_broker  # type: ignore[misc]
        if old_env is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = old_env
        _reset_producer_pool()
