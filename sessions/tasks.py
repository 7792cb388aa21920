"""Celery tasks of the sessions app: each takes ids and calls one service. Both are safe to run
twice or concurrently (acks_late re-delivers after a lost worker): the database decides."""

from __future__ import annotations

from celery import Task, shared_task

from sessions.services.exports import export_job_run, export_jobs_resume
from sessions.services.followups import followup_scan
from sessions.services.verify import record_mismatches_notify


@shared_task(name="followups.scan", acks_late=True, ignore_result=True)
def followups_scan() -> dict[str, int]:
    result = followup_scan()
    return {"reminders": result.reminders, "escalations": result.escalations}


# Bulk exports outlast the global 240 s limit; still well under the broker visibility timeout.
# Several of these run one job in parallel; the task id names the delivery, so a re-delivery
# after its worker died takes back that worker's chunk at once.
@shared_task(
    bind=True,
    name="exports.run",
    acks_late=True,
    ignore_result=True,
    soft_time_limit=3000,
    time_limit=3300,
)
def export_run(self: Task, job_id: int) -> None:
    export_job_run(job_id=job_id, runner=self.request.id or "")


@shared_task(name="exports.resume", acks_late=True, ignore_result=True)
def exports_resume() -> int:
    return export_jobs_resume()


@shared_task(name="exports.purge", acks_late=True, ignore_result=True)
def exports_purge() -> int:
    from sessions.services.retention import export_files_purge

    return export_files_purge()


# Every signed note is rehashed: at 100k notes that outlasts the global 240 s limit.
@shared_task(
    name="records.verify", acks_late=True, ignore_result=True, soft_time_limit=3000, time_limit=3300
)
def records_verify_task() -> dict[str, int]:
    result = record_mismatches_notify()
    return {"checked": result.checked, "mismatches": result.mismatches, "alerts": result.alerts}
