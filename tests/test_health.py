"""Liveness and readiness endpoints, the request id on responses and log lines, and JSON logs."""

from __future__ import annotations

import json
import logging

import pytest
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from crisisnotes.request_log import RequestIdFilter, RequestIdMiddleware
from tests.test_settings import SAFE, manage
from tests.workers import free_port

pytestmark = pytest.mark.django_db


def test_liveness_answers_without_login_or_dependencies(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200 and response.content == b"ok"


def test_readiness_checks_the_database_and_the_broker(client):
    response = client.get(reverse("readyz"))
    assert response.status_code == 200, response.content
    assert response.json() == {"database": "ok", "broker": "ok"}


def test_readiness_is_503_naming_the_broker_when_it_is_down(client, settings):
    settings.READINESS_BROKER_TIMEOUT = 0.5
    # Nothing listens on a port we just freed: the broker is down for this app.
    settings.CELERY_BROKER_URL = f"redis://127.0.0.1:{free_port()}/0"
    response = client.get(reverse("readyz"))
    assert response.status_code == 503
    assert response.json() == {"database": "ok", "broker": "unavailable"}


def _run_with_request_id(header: str | None) -> tuple[str, str]:
    """Run a request through the middleware; return the response header and the request id a
    log record emitted during the request carried."""
    seen: list[str] = []

    def view(request: HttpRequest) -> HttpResponse:
        record = logging.LogRecord("crisisnotes", logging.INFO, __file__, 1, "hi", None, None)
        RequestIdFilter().filter(record)
        seen.append(record.request_id)
        return HttpResponse("ok")

    request = HttpRequest()
    if header is not None:
        request.META["HTTP_X_REQUEST_ID"] = header
    response = RequestIdMiddleware(view)(request)
    return response["X-Request-ID"], seen[0]


def test_every_response_and_log_line_of_a_request_carries_one_request_id():
    header, logged = _run_with_request_id(None)
    assert len(header) == 32 and logged == header
    other, _ = _run_with_request_id(None)
    assert other != header


def test_a_proxy_request_id_is_kept_and_a_malformed_one_is_replaced():
    assert _run_with_request_id("proxy-7f3a9c21") == ("proxy-7f3a9c21", "proxy-7f3a9c21")
    header, logged = _run_with_request_id("evil\nINFO forged line")
    assert "\n" not in header and header == logged and len(header) == 32


def test_production_logs_one_json_object_a_line_with_the_request_id():
    code = "import logging; logging.getLogger('crisisnotes.x').warning('hello %s', 'there')"
    result = manage("shell", "-c", code, **SAFE)
    assert result.returncode == 0, result.stderr
    line = next(ln for ln in result.stderr.splitlines() if "hello there" in ln)
    record = json.loads(line)
    assert record["message"] == "hello there"
    assert record["level"] == "WARNING" and record["logger"] == "crisisnotes.x"
    assert record["request_id"] == "-" and "time" in record
