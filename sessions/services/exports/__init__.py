"""Exports of signed records, split along their seams:

- record.py: one signed record as HTML and PDF (and ExportError);
- requests.py: requesting a single or bulk export (access checks, audit) and the resume sweep;
- dispatch.py: sending a job to the workers (the only place that names the task);
- run.py: running a job on the workers, with sessions/services/export_chunks.py (the claims)
  and fhir_ndjson.py (the FHIR format);
- files.py: where a job's files are kept (the private storage, crisisnotes/storage.py);
- downloads.py: the checked and audited download.

The names below are the public ones views, tasks and other apps use."""

from sessions.services.exports.downloads import (
    export_content_type,
    export_download_record,
    export_download_url,
    export_link_expired,
    export_link_expires_at,
)
from sessions.services.exports.files import export_file_open, job_dir, job_file, job_files
from sessions.services.exports.record import (
    ExportError,
    record_context,
    record_html,
    record_pdf,
    record_status_label,
)
from sessions.services.exports.requests import (
    export_bulk_request,
    export_jobs_resume,
    export_single_request,
)
from sessions.services.exports.run import INDEX_FIELDS, export_job_run

__all__ = [
    "INDEX_FIELDS",
    "ExportError",
    "export_bulk_request",
    "export_content_type",
    "export_download_record",
    "export_download_url",
    "export_file_open",
    "export_job_run",
    "export_jobs_resume",
    "export_link_expired",
    "export_link_expires_at",
    "export_single_request",
    "job_dir",
    "job_file",
    "job_files",
    "record_context",
    "record_html",
    "record_pdf",
    "record_status_label",
]
