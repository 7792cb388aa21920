"""Browser: a counselor downloads a signed record as FHIR JSON from the note page (validated,
audited); a clinic admin picks FHIR R4 NDJSON on the bulk export page and downloads the ZIP a
real worker built."""

from __future__ import annotations

import json
import zipfile

import pytest
from playwright.sync_api import Page, expect

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import Action, AuditEvent
from tests.e2e.conftest import log_in
from tests.safety.fhir_records import high_risk_note, resources_of, validate_bundle
from tests.workers import celery_worker

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_counselor_downloads_the_fhir_bundle_of_a_signed_note(page: Page, live_server, demo):
    counselor = User.objects.get(username="counselor")
    note = high_risk_note(counselor)
    log_in(page, live_server.url, "counselor")
    expect(page.get_by_role("heading", name="My work")).to_be_visible()
    page.goto(f"{live_server.url}{note.get_absolute_url()}")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="FHIR (JSON)").click()
    download = download_info.value
    assert download.suggested_filename == f"session-{note.pk}-fhir-r4.json"
    with open(download.path(), encoding="utf-8") as fh:
        bundle = json.load(fh)
    validate_bundle(bundle)
    assert len(resources_of(bundle, "Task")) == 2
    assert AuditEvent.objects.filter(
        action=Action.EXPORT, actor=counselor, object_id=str(note.pk), summary__contains="FHIR"
    ).exists()


@pytest.mark.worker
def test_admin_runs_a_bulk_fhir_export(page: Page, live_server, demo, settings, tmp_path):
    settings.PRIVATE_STORAGE_DIR = tmp_path / "private"
    high_risk_note(User.objects.get(username="counselor"))
    with celery_worker(extra_env={"PRIVATE_STORAGE_DIR": str(settings.PRIVATE_STORAGE_DIR)}):
        log_in(page, live_server.url, "admin")
        page.get_by_role("link", name="Exports").click()
        page.get_by_label("FHIR R4 NDJSON").check()
        page.get_by_role("button", name="Start export").click()
        expect(page.get_by_role("heading", name="FHIR R4 NDJSON")).to_be_visible()
        expect(page.get_by_test_id("progress-bar")).to_have_text("100 %", timeout=60_000)
        with page.expect_download() as download_info:
            page.get_by_test_id("download").click()
    download = download_info.value
    with zipfile.ZipFile(download.path()) as archive:
        names = set(archive.namelist())
        manifest = json.loads(archive.read("manifest.json"))
    assert {"manifest.json", "Patient.ndjson", "Encounter.ndjson", "Provenance.ndjson"} <= names
    assert {o["url"] for o in manifest["output"]} <= names
