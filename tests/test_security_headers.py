"""Content-Security-Policy and Permissions-Policy on pages and PDFs; the app's own 400, 403-CSRF
and 500 pages; __Host- cookies in production."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from sessions.models import ExportJob
from sessions.services.exports import export_job_run
from tests.conftest import login
from tests.factories import NoteFactory
from tests.test_settings import SAFE, manage

pytestmark = pytest.mark.django_db


def _csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in header.split(";")) if part
    }


def test_pages_carry_a_strict_csp_and_permissions_policy(client, counselor):
    for response in (
        client.get(reverse("login")),
        login(client, counselor).get(reverse("crisis_sessions:my_work")),
    ):
        policy = _csp(response)
        assert policy["default-src"] == ["'self'"]
        assert policy["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
        assert policy["style-src"] == ["'self'"]
        assert policy["frame-ancestors"] == ["'none'"] and policy["object-src"] == ["'none'"]
        assert "camera=()" in response["Permissions-Policy"]


def test_pdfs_carry_the_csp_too(client, counselor, settings, tmp_path):
    settings.PRIVATE_STORAGE_DIR = tmp_path
    note = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    login(client, counselor)
    client.post(reverse("crisis_sessions:note_export", args=[note.pk]))
    job = export_job_run(job_id=ExportJob.objects.get().pk)
    response = client.get(reverse("crisis_sessions:export_download", args=[job.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert _csp(response)["default-src"] == ["'self'"]


def test_a_refused_csrf_token_gets_the_apps_own_page(counselor):
    strict = Client(enforce_csrf_checks=True)
    login(strict, counselor)
    response = strict.post(reverse("notifications:read"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "This form has expired" in page and "Go to your work" in page
    assert "Log out" in page  # the app's layout, with its navigation


def test_400_and_500_pages_are_the_apps_own(settings):
    from django.template.loader import render_to_string

    for name, words in (("400.html", "could not be understood"), ("500.html", "went wrong")):
        page = render_to_string(name)  # as Django's handlers render them: no request context
        assert words in page and "Go to your work" in page and 'href="/static/css/app.css"' in page


def test_production_uses_host_prefixed_cookies_and_check_deploy_stays_clean():
    code = "from django.conf import settings as s; print(s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME)"
    result = manage("shell", "-c", code, **SAFE)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[-2:] == ["__Host-sessionid", "__Host-csrftoken"]
