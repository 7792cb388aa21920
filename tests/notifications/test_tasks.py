"""E-mail through real worker processes: a refusing relay, a stopped broker."""

from __future__ import annotations

import time
from datetime import timedelta
from email import message_from_string

import pytest
from django.urls import reverse
from django.utils import timezone

from crisisnotes.notifications.models import EmailStatus, OutgoingEmail
from crisisnotes.notifications.services import email_sweep
from sessions.models import ExportJob
from sessions.models.exports import ExportStatus
from sessions.services.exports import export_jobs_resume, job_file, job_files
from sessions.tasks import followups_scan
from tests.conftest import login
from tests.factories import FollowUpTaskFactory, NoteFactory
from tests.smtp import smtp_relay
from tests.workers import (
    Worker,
    app_broker,
    celery_worker,
    private_redis,
    start_redis,
    stop_redis,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def wait_until(predicate, worker: Worker, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}:\n{worker.log()}")


def test_a_reminder_mailed_while_the_relay_refuses_arrives_exactly_once(counselor):
    task = FollowUpTaskFactory(
        session__clinic=counselor.clinic,
        session__author=counselor,
        assigned_to=counselor,
        due_at=timezone.now() + timedelta(minutes=20),
    )
    with smtp_relay(refusing=True) as relay:
        env = {"EMAIL_URL": relay.url, "EMAIL_RETRY_SECONDS": "1", "EMAIL_TIMEOUT": "5"}
        with celery_worker(extra_env=env) as worker:
            followups_scan.delay()  # the reminder comes due
            wait_until(lambda: relay.refused >= 2, worker, "two refused attempts")
            outgoing = OutgoingEmail.objects.get(recipient=counselor)
            assert outgoing.status == EmailStatus.PENDING and relay.messages == []
            relay.refusing = False  # the relay comes back
            wait_until(lambda: relay.messages, worker, "the e-mail")
            # Another scan and a sweep on top: still one e-mail.
            followups_scan.delay()
            email_sweep(now=timezone.now() + timedelta(minutes=5))
            time.sleep(3)
    assert len(relay.messages) == 1
    mail = message_from_string(relay.messages[0])
    assert mail["To"] == counselor.email
    assert f"Follow-up {task.pk}" in mail["Subject"]
    outgoing.refresh_from_db()
    assert outgoing.status == EmailStatus.SENT and outgoing.attempts >= 3
    assert [n.event_key for n in outgoing.notifications.all()] == [f"followup:{task.pk}:reminder"]


def test_with_the_broker_down_export_and_reset_succeed_and_run_once_it_returns(
    client, counselor, clinic_admin, settings, tmp_path
):
    settings.PRIVATE_STORAGE_DIR = tmp_path / "private"
    mail_dir = tmp_path / "mail"
    NoteFactory.create(signed=True, high_risk=True, author=counselor)
    with private_redis() as url, app_broker(url):
        stop_redis(url)
        login(client, clinic_admin)
        started = time.monotonic()
        response = client.post(
            reverse("crisis_sessions:export_list"), {"risk_level": ""}, follow=True
        )
        assert response.status_code == 200
        assert "Queued" in response.content.decode()
        client.post(reverse("logout"))
        response = client.post(reverse("password_reset"), {"email": counselor.email}, follow=True)
        assert response.status_code == 200
        assert "is queued" in response.content.decode()
        assert time.monotonic() - started < 10, "a dead broker must not hold the page"
        job = ExportJob.objects.get()
        reset = OutgoingEmail.objects.get(kind=OutgoingEmail.Kind.PASSWORD_RESET)
        assert job.status == ExportStatus.QUEUED and reset.status == EmailStatus.PENDING

        start_redis(url)  # the broker returns, empty: only the rows remember the work
        env = {
            "EMAIL_URL": f"filemail:///{mail_dir}",
            "PRIVATE_STORAGE_DIR": str(settings.PRIVATE_STORAGE_DIR),
        }
        with celery_worker(broker_url=url, extra_env=env) as worker:
            later = timezone.now() + timedelta(minutes=5)
            # What beat's sweeps do on their next tick (run twice: no duplicate work).
            for _ in range(2):
                export_jobs_resume(now=later)
                email_sweep(now=later)
            wait_until(lambda: ExportJob.objects.get().is_finished, worker, "the export")
            wait_until(lambda: mail_dir.exists() and any(mail_dir.iterdir()), worker, "mail")
            time.sleep(2)
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE, job.error
    assert ExportJob.objects.count() == 1 and job_files(job) == [job_file(job)]
    mails = list(mail_dir.iterdir())
    assert len(mails) == 1
    body = mails[0].read_text()
    assert f"To: {counselor.email}" in body and "/reset/" in body
    reset.refresh_from_db()
    assert reset.status == EmailStatus.SENT and reset.attempts == 1
