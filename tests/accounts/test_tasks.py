"""The password-reset e-mail goes through the outbox and a real Celery worker on the real Redis."""

import time
from pathlib import Path

import pytest
from django.db import transaction

from crisisnotes.accounts.services import user_password_reset_request
from crisisnotes.notifications.models import EmailStatus, OutgoingEmail
from tests.workers import celery_worker

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def _wait_for_files(directory: Path, timeout: float = 30) -> list[Path]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = list(directory.iterdir()) if directory.exists() else []
        if files:
            return files
        time.sleep(0.2)
    return []


def test_worker_sends_the_password_reset_email(counselor, tmp_path):
    with celery_worker(extra_env={"EMAIL_URL": f"filemail:///{tmp_path}"}) as worker:
        with transaction.atomic():
            assert user_password_reset_request(
                user=counselor, domain="crisisnotes.example.invalid", use_https=True
            )
        files = _wait_for_files(tmp_path)
        assert files, "no e-mail written by the worker:\n" + worker.log()
    body = files[0].read_text()
    assert "To: counselor1@example.invalid" in body
    assert "https://crisisnotes.example.invalid/reset/" in body
    outgoing = OutgoingEmail.objects.get()
    # The one-time link is made at send time, never stored.
    assert outgoing.body == "" and outgoing.status == EmailStatus.SENT


def test_worker_sends_nothing_to_a_user_deactivated_before_the_send(counselor, tmp_path):
    with celery_worker(extra_env={"EMAIL_URL": f"filemail:///{tmp_path}"}) as worker:
        with transaction.atomic():
            user_password_reset_request(
                user=counselor, domain="crisisnotes.example.invalid", use_https=True
            )
            counselor.is_active = False
            counselor.save()
        deadline = time.monotonic() + 30
        while "succeeded" not in worker.log() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert "succeeded" in worker.log(), worker.log()
    assert not tmp_path.exists() or list(tmp_path.iterdir()) == []
    assert OutgoingEmail.objects.get().status == EmailStatus.FAILED
