"""Liveness and readiness for the container orchestrator and the TLS proxy.

`/healthz` says the process answers (no dependency touched, so a database outage never gets
every web replica restarted); `/readyz` says this replica can serve: the database answers a
query and the broker accepts a connection. Neither needs a login, and neither says more than
which dependency failed.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from crisisnotes.celery import app as celery_app

logger = logging.getLogger(__name__)


@login_not_required
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except Exception:  # any failure means "not ready"; the log says which
        logger.exception("Readiness: the database does not answer")
        return False


def _broker_ok() -> bool:
    try:
        with celery_app.connection_for_write(settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=settings.READINESS_BROKER_TIMEOUT)
        return True
    except Exception:  # any failure means "not ready"; the log says which
        logger.exception("Readiness: the broker does not accept a connection")
        return False


@login_not_required
def readyz(request: HttpRequest) -> JsonResponse:
    checks = {"database": _database_ok(), "broker": _broker_ok()}
    return JsonResponse(
        {name: "ok" if ok else "unavailable" for name, ok in checks.items()},
        status=200 if all(checks.values()) else 503,
    )
