"""The FHIR half of a bulk export job (the job runner, sessions/services/exports/run.py, calls
it; same guarantees as the PDF records): each record's Bundle is stored on its own while the
chunks run, then the assembler builds the ZIP of `<ResourceType>.ndjson` files (FHIR Bulk Data)
and deletes them. The mapping is sessions/fhir.py; docs/fhir.md is the table."""

from __future__ import annotations

import io
import json
import logging
import zipfile
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from sessions.fhir import fhir_instant, note_fhir_bundle
from sessions.models import ExportJob
from sessions.services.exports.files import (
    file_exists,
    file_read,
    file_write,
    job_dir,
)
from sessions.services.exports.record import ExportError, record_for_job
from sessions.services.fhir import fhir_base_url, ndjson_lines

logger = logging.getLogger(__name__)


def fhir_ndjson_record_write(*, job: ExportJob, session_id: int) -> dict[str, Any] | None:
    """One record of a bulk export chunk: its Bundle is stored whole under its own name, and
    one already stored (a re-claimed chunk) is not built again. Returns the failure to report,
    or None."""
    target = f"{job_dir(job)}/bundles/session-{session_id}.json"
    client = ""
    try:
        if not file_exists(target):
            note = record_for_job(clinic_id=job.clinic_id, session_id=session_id)
            client = note.client.alias
            bundle = note_fhir_bundle(
                note=note, base_url=fhir_base_url(), generated_at=job.created_at
            )
            file_write(target, json.dumps(bundle, ensure_ascii=False).encode("utf-8"))
    except SoftTimeLimitExceeded:
        raise  # the whole job ran out of time: not this record's fault
    except Exception as exc:  # one bad record must not sink the rest
        logger.exception("FHIR export job %s: record %s failed", job.pk, session_id)
        return {"session_id": session_id, "client": client, "error": str(exc) or type(exc).__name__}
    return None


def fhir_ndjson_assemble(*, job: ExportJob, failures: list[dict[str, Any]]) -> str:
    """Once every chunk is done: the ZIP of `<ResourceType>.ndjson` files, the Bulk Data
    manifest and the OperationOutcome.ndjson of records that failed, stored whole under its
    one name (the runner then deletes the per-record files). A resource shared by several
    records (the Patient, the clinic, a Practitioner, a safety-plan version) has the same id in
    each and is written once."""
    final = f"{job_dir(job)}/crisisnotes-fhir-{job.pk}.zip"
    bundles_dir = f"{job_dir(job)}/bundles"
    if not file_exists(final):  # else a previous assembler published it and died before finishing
        if len(failures) == len(job.record_ids):
            raise ExportError("No record could be exported: " + failures[0]["error"])
        file_write(final, _ndjson_zip(job, bundles_dir, failures))
    return final


def _ndjson_zip(job: ExportJob, bundles_dir: str, failures: list[dict[str, Any]]) -> bytes:
    by_type: dict[str, dict[str, dict[str, Any]]] = {}
    for session_id in job.record_ids:
        name = f"{bundles_dir}/session-{session_id}.json"
        if not file_exists(name):
            continue  # a failed record
        for entry in json.loads(file_read(name))["entry"]:
            resource = entry["resource"]
            by_type.setdefault(resource["resourceType"], {}).setdefault(resource["id"], resource)
    outcomes = [_operation_outcome(f) for f in failures]
    manifest = {
        "transactionTime": fhir_instant(job.created_at),
        "request": f"{fhir_base_url()}/$export",
        "requiresAccessToken": True,
        "output": [
            {"type": rtype, "url": f"{rtype}.ndjson", "count": len(resources)}
            for rtype, resources in sorted(by_type.items())
        ],
        "error": [{"type": "OperationOutcome", "url": "OperationOutcome.ndjson"}]
        if outcomes
        else [],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2))
        for rtype, resources in sorted(by_type.items()):
            archive.writestr(f"{rtype}.ndjson", ndjson_lines(resources.values()))
        if outcomes:
            archive.writestr("OperationOutcome.ndjson", ndjson_lines(outcomes))
    return buffer.getvalue()


def _operation_outcome(failure: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "id": f"session-{failure['session_id']}-failed",
        "issue": [
            {
                "severity": "error",
                "code": "processing",
                "diagnostics": f"Session {failure['session_id']}: {failure['error']}",
            }
        ],
    }
