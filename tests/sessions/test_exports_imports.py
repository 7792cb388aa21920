"""The export modules stand on their own: importing any of them never imports the task module
(sessions/tasks.py imports the services; the reverse would be a cycle), and the PDF's template
set is complete, so a missing partial fails here instead of printing half a record."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.template.loader import get_template

import sessions.services.exports as exports_package
from sessions import registry
from sessions.services.exports.record import record_pdf, record_templates
from tests.factories import NoteFactory

ROOT = Path(__file__).resolve().parent.parent.parent

EXPORT_MODULES = [
    f"sessions.services.exports.{m.name}" for m in pkgutil.iter_modules(exports_package.__path__)
] + ["sessions.services.exports", "sessions.services.export_chunks", "sessions.services.retention"]


def test_the_package_holds_each_seam():
    assert {m.rsplit(".", 1)[1] for m in EXPORT_MODULES} >= {
        "record",
        "requests",
        "dispatch",
        "run",
        "files",
        "downloads",
        "fhir_ndjson",
    }


@pytest.mark.parametrize("module", EXPORT_MODULES)
def test_importing_an_export_module_does_not_import_the_tasks(module):
    """A fresh interpreter: nothing else has imported sessions.tasks before."""
    code = (
        "import django, sys; django.setup(); "
        f"import {module}; "
        "assert 'sessions.tasks' not in sys.modules, 'imports sessions.tasks'; "
        # The whole package too, in the order a worker might load it.
        "import sessions.services.exports; "
        "assert 'sessions.tasks' not in sys.modules, 'the package imports sessions.tasks'"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "crisisnotes.settings"},
    )
    assert result.returncode == 0, result.stderr


def test_the_tasks_still_find_the_services():
    from sessions import tasks

    assert tasks.export_run.name == "exports.run"


def test_every_template_of_the_record_loads():
    """The page and each registered section's read-only partial: a missing one fails here (and
    the PDF raises TemplateDoesNotExist rather than printing the section as something else)."""
    names = record_templates()
    assert names[0] == "pdf/session_record.html" and len(names) > 1
    for name in names:
        assert get_template(name) is not None, name


def test_the_pdf_has_no_fallback_template_any_more():
    from django.template import TemplateDoesNotExist

    with pytest.raises(TemplateDoesNotExist):
        get_template("pdf/section_fallback.html")


class _WithoutItsTemplate:
    """A registered section whose read-only partial is missing from the build."""

    readonly_template_name = "sessions/partials/no_such_section.html"

    def __init__(self, section: object) -> None:
        self._section = section

    def __getattr__(self, name: str) -> object:
        return getattr(self._section, name)


@pytest.mark.django_db
def test_a_section_without_its_template_fails_the_pdf_instead_of_printing_less(
    counselor,
):
    from django.template import TemplateDoesNotExist

    note = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    real = registry.sections()
    with (
        registry.override(_WithoutItsTemplate(real[0]), *real[1:]),
        pytest.raises(TemplateDoesNotExist, match="no_such_section"),
    ):
        record_pdf(note=note, generated_by=counselor)
