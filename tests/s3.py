"""A real S3-compatible server for the storage tests: moto's server mode (`moto_server`, a Flask
app speaking the S3 REST API over HTTP) in its own process on a free port, started once per
test session and stopped by its pid. The app talks to it through django-storages and boto3
exactly as it would to a bucket elsewhere; only the endpoint differs."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crisisnotes.storage_settings import s3_private_storage
from tests.workers import free_port

MOTO_SERVER = Path(sys.executable).parent / "moto_server"
ACCESS_KEY = "crisisnotes-test"  # moto accepts any key pair; these are invented
SECRET_KEY = "crisisnotes-test-secret"
REGION = "us-east-1"


@dataclass
class S3Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def new_bucket(self) -> str:
        bucket = f"crisisnotes-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=bucket)
        return bucket

    def storage_config(self, bucket: str, *, presigned_seconds: int = 60) -> dict[str, Any]:
        return s3_private_storage(
            bucket=bucket,
            endpoint_url=self.endpoint_url,
            region=REGION,
            access_key=ACCESS_KEY,
            secret_key=SECRET_KEY,
            addressing_style="path",
            presigned_seconds=presigned_seconds,
        )

    def worker_env(self, bucket: str) -> dict[str, str]:
        """The same storage for a worker process, through the variables production sets."""
        return {
            "PRIVATE_S3_BUCKET": bucket,
            "PRIVATE_S3_ENDPOINT_URL": self.endpoint_url,
            "PRIVATE_S3_REGION": REGION,
            "PRIVATE_S3_ACCESS_KEY_ID": ACCESS_KEY,
            "PRIVATE_S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "PRIVATE_S3_ADDRESSING_STYLE": "path",
        }


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@contextmanager
def s3_server() -> Iterator[S3Server]:
    port = free_port()
    log_file = tempfile.NamedTemporaryFile(  # noqa: SIM115  (the server writes it until stopped)
        prefix="moto-server-", suffix=".log", delete=False
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = subprocess.Popen(
        [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = S3Server(process=process, port=port, log_path=Path(log_file.name))
    try:
        deadline = time.monotonic() + 30
        while not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("moto_server did not start:\n" + server.log())
            time.sleep(0.1)
        server.client().list_buckets()  # answers S3 requests, not only TCP connections
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
