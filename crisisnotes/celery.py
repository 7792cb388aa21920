"""The Celery app: JSON only, late acknowledgement, time limits, beat schedule in code.

Tasks take ids and call a service; the database is the source of truth, so a lost message or an
emptied Redis is recovered by the next beat scan rather than by anything Celery keeps. Broker and
queue settings come from the environment in settings.py (`CELERY_*`); tasks are sent through
`crisisnotes.effects`.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisisnotes.settings")

app = Celery("crisisnotes")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    # A task is acknowledged only after it finished, and re-delivered if its worker died, so
    # every task must be idempotent.
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_soft_time_limit=240,
    task_time_limit=300,
    broker_connection_retry_on_startup=True,
    # A request that enqueues work must not hang on a dead broker: try the publish briefly,
    # then give up and leave the work to the sweep that reads the database row.
    task_publish_retry_policy={
        "max_retries": 2,
        "interval_start": 0,
        "interval_step": 0.2,
        "interval_max": 0.5,
    },
    broker_connection_timeout=3,
    worker_hijack_root_logger=False,
    timezone="UTC",
    enable_utc=True,
    # Periodic jobs read the database, never a queue, so a Redis restart loses nothing: a
    # reminder whose scan message was lost is found by the next scan a minute later, and an
    # export job whose message was lost is enqueued again by the sweep.
    beat_schedule={
        "followups-scan": {
            "task": "followups.scan",
            # Seconds; an environment override exists so a test can watch beat fire for real.
            "schedule": float(os.environ.get("FOLLOWUP_SCAN_SECONDS", "60")),
            # A scan that waited longer than its interval is superseded by the next one.
            "options": {"expires": 55},
        },
        # E-mails whose task was lost (broker down when enqueued) or whose retry is overdue.
        "mail-sweep": {
            "task": "mail.sweep",
            "schedule": float(os.environ.get("MAIL_SWEEP_SECONDS", "60")),
            "options": {"expires": 55},
        },
        "exports-resume": {
            "task": "exports.resume",
            "schedule": 120.0,
            "options": {"expires": 110},
        },
        # Retention of exported files (EXPORT_RETENTION_HOURS): hourly is precise enough.
        "exports-purge": {
            "task": "exports.purge",
            "schedule": 3600.0,
            "options": {"expires": 3000},
        },
        # Recompute every signed note's hashes and tell the clinic admins of any mismatch
        # (once per note and kind). Every 6 hours by default; a test may set it shorter.
        "records-verify": {
            "task": "records.verify",
            "schedule": float(os.environ.get("RECORDS_VERIFY_SECONDS", "21600")),
            "options": {"expires": 3000},
        },
    },
)
app.autodiscover_tasks()
