"""Browser: a clinic admin runs a bulk export, watches the progress bar reach 100 % while a real
worker renders the PDFs, and downloads the ZIP; a counselor cannot reach the admin page (403) or
another clinic's file (404)."""

from __future__ import annotations

import zipfile

import pytest
from playwright.sync_api import Page, expect

from crisisnotes.accounts.models import Clinic, User
from sessions.models import CrisisSession, ExportJob
from sessions.models.exports import ExportKind, ExportStatus
from tests.e2e.conftest import log_in
from tests.factories import ClinicFactory, NoteFactory, UserFactory
from tests.workers import celery_worker

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_admin_bulk_export_progress_and_download(page: Page, live_server, demo, settings, tmp_path):
    settings.PRIVATE_STORAGE_DIR = tmp_path / "private"
    counselor = User.objects.get(username="counselor")
    for _ in range(4):
        NoteFactory.create(signed=True, high_risk=True, author=counselor)
    signed = CrisisSession.objects.filter(clinic=counselor.clinic, status="signed").count()

    with celery_worker(extra_env={"PRIVATE_STORAGE_DIR": str(settings.PRIVATE_STORAGE_DIR)}):
        log_in(page, live_server.url, "admin")
        page.get_by_role("link", name="Exports").click()
        expect(page.get_by_role("heading", name="Bulk export")).to_be_visible()
        page.get_by_role("button", name="Start export").click()
        bar = page.get_by_test_id("progress-bar")
        expect(bar).to_be_visible()
        # htmx polls the job every second until the worker has rendered every record.
        expect(bar).to_have_text("100 %", timeout=60_000)
        expect(page.get_by_test_id("export-status")).to_contain_text(
            f"Done · {signed} of {signed} records"
        )
        with page.expect_download() as download_info:
            page.get_by_test_id("download").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(download.path()) as archive:
        names = archive.namelist()
    assert "index.csv" in names
    assert len([n for n in names if n.endswith(".pdf")]) == signed


def test_counselor_cannot_reach_admin_exports_or_another_clinics_file(
    page: Page, live_server, demo
):
    elsewhere: Clinic = ClinicFactory(name="Elsewhere Clinic")
    their_admin: User = UserFactory(clinic=elsewhere, is_clinic_admin=True)
    job = ExportJob.objects.create(
        clinic=elsewhere,
        requested_by=their_admin,
        kind=ExportKind.BULK,
        status=ExportStatus.DONE,
        file_path="exports/999/elsewhere.zip",
    )
    log_in(page, live_server.url, "counselor")
    expect(page.get_by_role("heading", name="My work")).to_be_visible()
    response = page.goto(f"{live_server.url}/exports/")
    assert response is not None and response.status == 403
    response = page.goto(f"{live_server.url}/exports/{job.pk}/download/")
    assert response is not None and response.status == 404
