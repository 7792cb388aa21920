"""The password-reset e-mail goes through a real Celery worker on the real Redis."""

import time
from pathlib import Path

import pytest

from crisisnotes.accounts.tasks import password_reset_email_send
from tests.workers import celery_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def _wait_for_files(directory: Path, timeout: float = 30) -> list[Path]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = list(directory.iterdir())
        if files:
            return files
        time.sleep(0.2)
    return []


def test_worker_sends_the_password_reset_email(counselor, tmp_path):
    with celery_worker(extra_env={"EMAIL_URL": f"filemail:///{tmp_path}"}) as worker:
        password_reset_email_send.delay(counselor.pk, "crisisnotes.example.invalid", True)
        files = _wait_for_files(tmp_path)
        assert files, "no e-mail written by the worker:\n" + worker.log()
    body = files[0].read_text()
    assert "To: counselor1@example.invalid" in body
    assert "https://crisisnotes.example.invalid/reset/" in body


def test_worker_sends_nothing_for_a_deactivated_user(counselor, tmp_path):
    counselor.is_active = False
    counselor.save()
    with celery_worker(extra_env={"EMAIL_URL": f"filemail:///{tmp_path}"}) as worker:
        password_reset_email_send.delay(counselor.pk, "crisisnotes.example.invalid", True)
        deadline = time.monotonic() + 30
        while "succeeded" not in worker.log() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "succeeded" in worker.log(), worker.log()
    assert list(tmp_path.iterdir()) == []
