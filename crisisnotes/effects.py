"""The one way an outward side effect (an e-mail, an export, any Celery task) leaves a request.

Work is described by a database row written in the caller's transaction; the task that acts on
it is sent only after that transaction commits, and a beat sweep rescans the rows, so a lost
message or an unreachable broker delays the work and never fails a committed request.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from django.db import transaction
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# What a publish raises when the broker is unreachable (kombu wraps most connection errors).
BROKER_ERRORS = (OperationalError, OSError)


def enqueue_now(task: Task, *args: Any) -> bool:
    """Send `task(*args)` now; False (logged, not raised) if the broker is unreachable.

    For sweeps that run outside a request's transaction. Every task enqueued here works from a
    database row that a beat sweep rescans, so a broker outage delays the work and never turns a
    committed request into an error."""
    try:
        task.apply_async(args=args)
    except BROKER_ERRORS:
        logger.warning("Broker unreachable; %s%r is left to its sweep", task.name, args)
        return False
    return True


def enqueue_on_commit(task: Task, *args: Any) -> None:
    """Send `task(*args)` once the surrounding transaction commits: never for a rolled-back
    change, never before the rows the task reads are visible to the worker, and never an
    error for the request if the broker is down (see `enqueue_now`)."""
    transaction.on_commit(lambda: enqueue_now(task, *args))
