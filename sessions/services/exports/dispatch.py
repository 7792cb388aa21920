"""Sending export jobs to the workers. sessions/tasks.py imports the export services, never the
reverse: the task is looked up here, when a message is sent, so importing any export module
never imports the task module (tests/sessions/test_exports_imports.py proves it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from crisisnotes.effects import enqueue_now, enqueue_on_commit

if TYPE_CHECKING:
    from celery import Task


def _export_run_task() -> Task:
    from sessions.tasks import export_run

    return export_run


def export_run_on_commit(job_id: int) -> None:
    """Run the job once the transaction that created (or fanned out) it commits."""
    enqueue_on_commit(_export_run_task(), job_id)


def export_run_now(job_id: int) -> bool:
    """Send the job now (the resume sweep); False if the broker is unreachable."""
    return enqueue_now(_export_run_task(), job_id)
