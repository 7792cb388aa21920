"""Celery tasks with a real Redis and real worker processes: reminders exactly once (also with
concurrent scans and across a Redis restart), and a bulk export that survives its worker being
SIGKILLed half-way."""

from __future__ import annotations

import signal
import time
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from crisisnotes.notifications.models import Notification
from sessions.models import ExportJob, FollowUpAlert
from sessions.models.exports import ExportStatus
from sessions.services.exports import export_bulk_request, job_file, job_files
from sessions.tasks import followups_scan
from tests.factories import FollowUpTaskFactory, NoteFactory
from tests.sessions.export_files import stored_zip
from tests.workers import Worker, celery_beat, celery_worker, private_redis, restart_redis

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker]


def wait_until(
    predicate: Callable[[], bool], worker: Worker, what: str, timeout: float = 120
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}:\n{worker.log()}")


def _succeeded(worker: Worker, name: str) -> int:
    return sum(
        1 for line in worker.log().splitlines() if f"Task {name}[" in line and "succeeded" in line
    )


def _files(folder) -> int:
    return len(list(folder.iterdir())) if folder.exists() else 0


def _task_due(counselor, due_in: timedelta):
    return FollowUpTaskFactory(
        session__clinic=counselor.clinic,
        session__author=counselor,
        assigned_to=counselor,
        due_at=timezone.now() + due_in,
    )


def test_concurrent_scans_in_a_real_worker_alert_exactly_once(counselor, supervisor, tmp_path):
    soon = _task_due(counselor, timedelta(minutes=30))
    overdue = _task_due(counselor, timedelta(hours=-6))
    mail_dir = tmp_path / "mail"
    # Four worker threads take four scans at the same moment, like two beats and two workers.
    with celery_worker(
        pool="threads", concurrency=4, extra_env={"EMAIL_URL": f"filemail:///{mail_dir}"}
    ) as worker:
        for _ in range(4):
            followups_scan.delay()
        wait_until(lambda: _succeeded(worker, "followups.scan") >= 4, worker, "four scans")
        assert FollowUpAlert.objects.filter(task=soon).count() == 1  # reminder only
        assert FollowUpAlert.objects.filter(task=overdue).count() == 2  # reminder + escalation

        # Time passes for `soon`: past due + grace, it escalates once, however many scans run.
        type(soon).objects.filter(pk=soon.pk).update(due_at=timezone.now() - timedelta(hours=5))
        for _ in range(3):
            followups_scan.delay()
        wait_until(lambda: _succeeded(worker, "followups.scan") >= 7, worker, "three more scans")
        # The e-mails go out in tasks of their own after each scan's commit: wait for them
        # before the worker stops (it was stopped with some still queued on a loaded machine).
        # Three: the two reminders, claimed by one scan's batch, are one e-mail listing both.
        wait_until(lambda: _files(mail_dir) >= 3, worker, "three e-mails")
        wait_until(lambda: _succeeded(worker, "mail.send_batch") >= 1, worker, "the batches")
        time.sleep(1)  # anything sent twice would be written by now
    assert FollowUpAlert.objects.filter(task=soon, kind="escalation").count() == 1
    assert Notification.objects.filter(recipient=counselor).count() == 2
    assert Notification.objects.filter(recipient=supervisor).count() == 2
    mails = [path.read_text() for path in mail_dir.iterdir()]
    assert len(mails) == 3, "one e-mail per recipient and batch"
    for notification in Notification.objects.all():
        assert sum(notification.message in text for text in mails) == 1, notification.message


def test_real_beat_sends_the_scan_and_the_worker_reminds_once(counselor):
    """One real run of the schedule in crisisnotes/celery.py (its interval shortened): beat
    sends the scan, the worker reads the database and reminds exactly once however many ticks
    follow."""
    task = _task_due(counselor, timedelta(minutes=15))
    with private_redis() as url:
        env = {"FOLLOWUP_SCAN_SECONDS": "1"}
        with celery_worker(broker_url=url) as worker, celery_beat(broker_url=url, extra_env=env):
            wait_until(lambda: _succeeded(worker, "followups.scan") >= 3, worker, "three ticks")
    assert FollowUpAlert.objects.filter(task=task).count() == 1
    assert Notification.objects.filter(event_key=f"followup:{task.pk}:reminder").count() == 1


def test_restarting_redis_between_scheduling_and_scan_loses_no_reminder(counselor):
    task = _task_due(counselor, timedelta(minutes=20))
    with private_redis() as url:
        with celery_worker(broker_url=url) as worker:
            worker.kill(signal.SIGKILL)  # nobody consumes: the scan waits in Redis...
            followups_scan.delay()
        restart_redis(url)  # ...and Redis keeps nothing on disk: the message is gone.
        assert not FollowUpAlert.objects.exists()
        with celery_worker(broker_url=url) as worker:
            followups_scan.delay()  # the next beat tick reads the database again
            wait_until(lambda: FollowUpAlert.objects.filter(task=task).exists(), worker, "alert")
            followups_scan.delay()
            wait_until(lambda: _succeeded(worker, "followups.scan") >= 2, worker, "second scan")
    assert FollowUpAlert.objects.filter(task=task).count() == 1
    assert Notification.objects.filter(event_key=f"followup:{task.pk}:reminder").count() == 1


def test_bulk_export_survives_a_sigkilled_worker_without_duplicates(
    counselor, clinic_admin, settings, tmp_path
):
    settings.PRIVATE_STORAGE_DIR = tmp_path / "private"
    notes = [NoteFactory.create(signed=True, high_risk=True, author=counselor) for _ in range(12)]
    env = {
        "PRIVATE_STORAGE_DIR": str(settings.PRIVATE_STORAGE_DIR),
        # Redis re-delivers an unacknowledged task after this many seconds.
        "CELERY_VISIBILITY_TIMEOUT": "2",
        # The job's other runners take the dead one's chunk over after this long.
        "EXPORT_STALL_SECONDS": "3",
    }
    with private_redis() as url:
        with celery_worker(broker_url=url, extra_env=env) as first:
            job = export_bulk_request(actor=clinic_admin)
            wait_until(
                lambda: ExportJob.objects.get(pk=job.pk).progress_done >= 2, first, "progress"
            )
            first.kill(signal.SIGKILL)
            assert first.process.returncode == -signal.SIGKILL
        job.refresh_from_db()
        assert job.status == ExportStatus.RUNNING and job.progress_done < len(notes)
        time.sleep(2.5)  # past the visibility timeout: the task is due for re-delivery
        with celery_worker(broker_url=url, extra_env=env) as second:
            wait_until(
                lambda: ExportJob.objects.get(pk=job.pk).is_finished, second, "job to finish"
            )
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE, job.error
    # The killed delivery, then its re-delivery (and perhaps a fanned-out runner) worked on it.
    assert job.attempts >= 2 and job.failures == []
    assert job_files(job) == [job_file(job)]
    with stored_zip(job) as archive:
        names = archive.namelist()
    assert len(names) == len(set(names)) == 2 * len(notes) + 1  # index, PDFs, content JSONs
    assert sorted(n for n in names if n.endswith(".pdf")) == sorted(
        f"session-{n.pk}-{n.started_at:%Y-%m-%d}.pdf" for n in notes
    )
