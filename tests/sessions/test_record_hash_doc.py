"""docs/record-hash.md matches the code: its field lists are the hashed fields, its index columns
are the export's, and its recipe, run as a recipient would run it on an exported ZIP, confirms
an untouched export and catches a changed one."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sessions.hashing import HASH_HEADER_FIELDS, note_content_payload
from sessions.models.exports import ExportStatus
from sessions.services.exports import (
    INDEX_FIELDS,
    export_bulk_request,
    export_job_run,
    job_file,
)
from sessions.services.review import note_cosign
from tests.factories import NoteFactory
from tests.sessions.export_files import on_disk
from tests.sessions.note_helpers import reload

DOC = Path(__file__).resolve().parents[2] / "docs" / "record-hash.md"

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_storage(settings, tmp_path):
    settings.PRIVATE_STORAGE_DIR = tmp_path / "private"


def _doc() -> str:
    return DOC.read_text()


def _names(text: str) -> list[str]:
    return re.findall(r"`([a-z0-9_]+)`", text)


def _table_rows(doc: str) -> dict[str, str]:
    rows = {}
    for line in doc.splitlines():
        match = re.match(r"\| `([a-z_]+)` \| (.*) \|$", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def _paragraph_after(doc: str, lead: str) -> str:
    start = doc.index(lead) + len(lead)
    return doc[start : doc.index("\n\n", start)]


def test_the_documented_fields_are_exactly_the_hashed_fields(counselor):
    doc = _doc()
    assert _names(_paragraph_after(doc, "Header fields:")) == list(HASH_HEADER_FIELDS)

    payload = note_content_payload(
        reload(NoteFactory.create(signed=True, high_risk=True, author=counselor))
    )
    assert set(payload) == {"header", "sections", "quick_notes", "handoffs"}
    assert list(payload["header"]) == list(HASH_HEADER_FIELDS)
    rows = _table_rows(doc)
    sections = {key: content for item in payload["sections"] for key, content in item.items()}
    assert set(rows) >= set(sections)
    for key, content in sections.items():
        if key != "safety":
            assert _names(rows[key]) == list(content), key
    # The safety row names its parts and, in parentheses, a notification's fields.
    safety = _names(rows["safety"])
    assert [n for n in safety if n in sections["safety"]] == list(sections["safety"])
    notification_fields = _names(rows["safety"].split("(each:")[1].split(")")[0])
    assert notification_fields == [
        "supervisor_id",
        "supervisor_name",
        "notified_at",
        "method",
        "response",
        "responded_at",
    ]
    for part in ("screen", "formulation", "means"):
        assert _names(rows[part]) == list(sections["safety"][part]), part


def test_the_documented_index_columns_are_the_exports(counselor):
    paragraph = _paragraph_after(_doc(), "The index has one row per record with the columns")
    assert _names(paragraph) == INDEX_FIELDS


def _recipe() -> str:
    doc = _doc()
    start = doc.index("```python\n", doc.index("## Recomputing it from an export")) + 10
    return doc[start : doc.index("```", start)]


def test_following_the_recipe_on_an_export_checks_the_pdf_and_the_content(
    counselor, supervisor, trainee, clinic_admin, tmp_path
):
    plain = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    cosigned = note_cosign(
        note=NoteFactory.create(awaiting_cosign=True, author=trainee, client=plain.client),
        supervisor=supervisor,
    )
    job = export_job_run(job_id=export_bulk_request(actor=clinic_admin).pk)
    assert job.status == ExportStatus.DONE, job.error
    zip_path = on_disk(job_file(job))

    # Read back: each index row's hashes are those of the files and of the stored record.
    with zipfile.ZipFile(zip_path) as archive:
        index = list(csv.DictReader(io.StringIO(archive.read("index.csv").decode())))
        by_id = {int(row["session_id"]): row for row in index}
        assert set(by_id) == {plain.pk, cosigned.pk}
        for note in (reload(plain), reload(cosigned)):
            row = by_id[note.pk]
            assert row["content_hash"] == note.content_hash
            assert row["cosign_hash"] == note.cosign_hash
            pdf = archive.read(row["file"])
            assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == row["file_sha256"]
            content = archive.read(row["content_file"])
            assert hashlib.sha256(content).hexdigest() == note.content_hash
            assert json.loads(content) == json.loads(
                json.dumps(note_content_payload(note), sort_keys=True)
            )
        assert by_id[cosigned.pk]["cosign_hash"]

    script = tmp_path / "check_export.py"
    script.write_text(_recipe())
    run = subprocess.run(
        [sys.executable, str(script), str(zip_path)], capture_output=True, text=True, check=True
    )
    assert sorted(run.stdout.splitlines()) == sorted(
        [f"{plain.pk} PDF ok content ok", f"{cosigned.pk} PDF ok content ok"]
    )

    # A recipient given a ZIP whose content file or PDF was changed on the way sees it.
    changed = tmp_path / "changed.zip"
    with zipfile.ZipFile(zip_path) as source, zipfile.ZipFile(changed, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == by_id[plain.pk]["content_file"]:
                data = data.replace(b"Lost the night-shift job", b"Left the night-shift job")
            if item.filename == by_id[cosigned.pk]["file"]:
                data = data + b"\n%tampered"
            target.writestr(item, data)
    run = subprocess.run(
        [sys.executable, str(script), str(changed)], capture_output=True, text=True, check=True
    )
    assert sorted(run.stdout.splitlines()) == sorted(
        [
            f"{plain.pk} PDF ok CONTENT DOES NOT MATCH",
            f"{cosigned.pk} PDF CHANGED content ok",
        ]
    )
