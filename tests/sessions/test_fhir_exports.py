"""Bulk FHIR export through the export jobs: a ZIP of NDJSON files (one per resource type, as
the Bulk Data format has them) with a manifest, every line a valid R4 resource, shared
resources written once, failures as OperationOutcome lines, resumable like the PDF export."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from fhir.resources import construct_fhir_element

from crisisnotes.audit.models import Action, AuditEvent
from sessions.fhir import note_fhir_bundle
from sessions.models import CrisisSession, ExportJob, FollowUpTask
from sessions.models.exports import ExportFormat, ExportStatus
from sessions.services.exports import (
    export_bulk_request,
    export_job_run,
    job_dir,
    job_file,
    job_files,
)
from sessions.services.exports import fhir_ndjson as fhir_services
from tests.conftest import login
from tests.safety.fhir_records import (
    anonymous_note,
    check_bindings,
    cosigned_note,
    draft_record,
    high_risk_note,
    low_risk_note,
    sign_record,
)
from tests.sessions.export_files import stored_zip

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_DIR = tmp_path / "private"


def read_zip(job: ExportJob) -> dict[str, list[dict]]:
    assert job_file(job) == f"{job_dir(job)}/crisisnotes-fhir-{job.pk}.zip"
    with stored_zip(job) as archive:
        files = {name: archive.read(name).decode("utf-8") for name in archive.namelist()}
    result: dict[str, list[dict]] = {"manifest": [json.loads(files.pop("manifest.json"))]}
    for name, text in files.items():
        assert name.endswith(".ndjson") and text.endswith("\n")
        result[name.removesuffix(".ndjson")] = [json.loads(line) for line in text.splitlines()]
    return result


def test_bulk_fhir_export_writes_valid_ndjson_per_resource_type(
    counselor, trainee, supervisor, clinic_admin
):
    high = high_risk_note(counselor)
    notes = [
        high,
        low_risk_note(counselor),
        anonymous_note(counselor),
        cosigned_note(trainee, supervisor),
        # A second session of the high-risk client: its Patient and plan are the same resources.
        sign_record(draft_record(counselor, client=high.client), signer=counselor),
    ]
    job = export_bulk_request(actor=clinic_admin, export_format=ExportFormat.FHIR_NDJSON)
    assert job.format == ExportFormat.FHIR_NDJSON
    job = export_job_run(job_id=job.pk)
    assert job.status == ExportStatus.DONE and job.progress_done == 5 and job.failures == []
    files = read_zip(job)

    for rtype, resources in files.items():
        if rtype == "manifest":
            continue
        ids = [r["id"] for r in resources]
        assert len(ids) == len(set(ids)), f"{rtype} written twice"
        for resource in resources:
            assert resource["resourceType"] == rtype
            construct_fhir_element(rtype, resource)
            check_bindings(resource)
    assert {e["id"] for e in files["Encounter"]} == {f"session-{n.pk}" for n in notes}
    assert len(files["Patient"]) == 4  # five sessions, four clients
    assert len(files["Provenance"]) == 5
    assert len(files["Task"]) == FollowUpTask.objects.count() == 2
    assert len(files["CarePlan"]) == 1
    manifest = files["manifest"][0]
    assert {(o["type"], o["count"]) for o in manifest["output"]} == {
        (rtype, len(resources)) for rtype, resources in files.items() if rtype != "manifest"
    }
    assert manifest["error"] == []
    # Everything a single download of the record says is in the files.
    bundle = note_fhir_bundle(note=high, base_url="http://x/fhir", generated_at=job.created_at)
    for entry in bundle["entry"]:
        resource = entry["resource"]
        assert resource in files[resource["resourceType"]]
    # Only the ZIP remains of the job's working files.
    assert job_files(job) == [f"{job_dir(job)}/crisisnotes-fhir-{job.pk}.zip"]
    # Each record's trail shows it was included in the export.
    for note in notes:
        assert AuditEvent.objects.filter(
            action=Action.EXPORT, object_id=str(note.pk), summary__contains=f"export {job.pk}"
        ).exists()


def test_a_failing_record_is_an_operation_outcome_and_the_rest_are_exported(
    counselor, clinic_admin, admin_client_, monkeypatch
):
    good, bad = low_risk_note(counselor), high_risk_note(counselor)
    real = fhir_services.note_fhir_bundle

    def flaky(*, note, **kwargs):
        if note.pk == bad.pk:
            raise RuntimeError("disk on fire")
        return real(note=note, **kwargs)

    monkeypatch.setattr(fhir_services, "note_fhir_bundle", flaky)
    job = export_bulk_request(actor=clinic_admin, export_format=ExportFormat.FHIR_NDJSON)
    job = export_job_run(job_id=job.pk)
    assert job.status == ExportStatus.DONE
    assert job.failures == [
        {"session_id": bad.pk, "client": bad.client.alias, "error": "disk on fire"}
    ]
    files = read_zip(job)
    assert [e["id"] for e in files["Encounter"]] == [f"session-{good.pk}"]
    (outcome,) = files["OperationOutcome"]
    construct_fhir_element("OperationOutcome", outcome)
    assert f"Session {bad.pk}: disk on fire" == outcome["issue"][0]["diagnostics"]
    assert files["manifest"][0]["error"] == [
        {"type": "OperationOutcome", "url": "OperationOutcome.ndjson"}
    ]
    partial = admin_client_.get(
        reverse("crisis_sessions:export_progress", args=[job.pk])
    ).content.decode()
    assert "disk on fire" in partial and "OperationOutcome.ndjson" in partial


def test_a_rerun_after_a_crash_resumes_without_rebuilding_done_records(
    counselor, clinic_admin, monkeypatch
):
    first, second = low_risk_note(counselor), high_risk_note(counselor)
    job = export_bulk_request(actor=clinic_admin, export_format=ExportFormat.FHIR_NDJSON)
    real = fhir_services.note_fhir_bundle
    built: list[int] = []

    def dies_on_second(*, note, **kwargs):
        built.append(note.pk)
        if note.pk == second.pk and built.count(second.pk) == 1:
            raise SystemExit("worker killed")  # not an Exception: nothing catches it
        return real(note=note, **kwargs)

    monkeypatch.setattr(fhir_services, "note_fhir_bundle", dies_on_second)
    with pytest.raises(SystemExit):
        export_job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == ExportStatus.RUNNING and job.progress_done == 1
    # The dead run's chunk is taken over once its heartbeat is stale (EXPORT_STALL_SECONDS).
    with time_machine.travel(timezone.now() + timedelta(minutes=1), tick=True):
        job = export_job_run(job_id=job.pk)
    assert job.status == ExportStatus.DONE
    assert built == [first.pk, second.pk, second.pk]  # the first record was not built again
    assert len(read_zip(job)["Encounter"]) == 2


def test_drafts_never_reach_the_fhir_export(counselor, clinic_admin):
    low_risk_note(counselor)
    draft = draft_record(counselor)
    job = export_job_run(
        job_id=export_bulk_request(actor=clinic_admin, export_format="fhir_ndjson").pk
    )
    assert f"session-{draft.pk}" not in {e["id"] for e in read_zip(job)["Encounter"]}
    assert CrisisSession.objects.get(pk=draft.pk).status == "draft"


def test_admin_chooses_fhir_on_the_bulk_page_and_downloads_the_zip(
    client, counselor, clinic_admin, outsider
):
    low_risk_note(counselor)
    login(client, clinic_admin)
    page = client.get(reverse("crisis_sessions:export_list")).content.decode()
    assert 'value="fhir_ndjson"' in page
    response = client.post(reverse("crisis_sessions:export_list"), {"export_format": "fhir_ndjson"})
    job = ExportJob.objects.get()
    assert response.status_code == 302 and job.format == "fhir_ndjson"
    export_job_run(job_id=job.pk)
    detail = client.get(reverse("crisis_sessions:export_detail", args=[job.pk])).content.decode()
    assert "FHIR R4 NDJSON" in detail
    download = client.get(reverse("crisis_sessions:export_download", args=[job.pk]))
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    assert (
        AuditEvent.objects.filter(
            action=Action.DOWNLOAD, object_type="crisis_sessions.exportjob", object_id=str(job.pk)
        ).count()
        == 1
    )
    assert (
        login(client, outsider)
        .get(reverse("crisis_sessions:export_download", args=[job.pk]))
        .status_code
        == 404
    )


def test_a_form_without_a_format_still_exports_pdf(admin_client_, counselor):
    low_risk_note(counselor)
    admin_client_.post(reverse("crisis_sessions:export_list"), {"risk_level": ""})
    assert ExportJob.objects.get().format == ExportFormat.PDF
