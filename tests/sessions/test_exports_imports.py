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


# Each module is imported in a fresh interpreter's state: one interpreter sets Django up, then
# forks a child per module, which imports it and exits (the child starts from exactly what
# `django.setup()` leaves, as a fresh `python -c` would, without paying the interpreter's and
# Django's start-up once per module: ~3 s of CPU each on a 2-core machine).
_FORK_EACH = """
import importlib, os, sys
import django

django.setup()
for module in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(module)
            assert "sessions.tasks" not in sys.modules, "imports sessions.tasks"
            # The whole package too, in the order a worker might load it.
            importlib.import_module("sessions.services.exports")
            assert "sessions.tasks" not in sys.modules, "the package imports sessions.tasks"
        except BaseException as error:
            print(f"{module}: {error!r}", file=sys.stderr, flush=True)
            os._exit(1)
        os._exit(0)
    _pid, status = os.waitpid(pid, 0)
    print(module, os.waitstatus_to_exitcode(status), flush=True)
"""


def _import_each(*modules: str) -> subprocess.CompletedProcess[str]:
    """_FORK_EACH run on `modules`: a line "<module> <exit code>" each on its output, what a
    failing child said on its error output."""
    return subprocess.run(
        [sys.executable, "-c", _FORK_EACH, *modules],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "crisisnotes.settings"},
    )


@pytest.fixture(scope="module")
def fresh_imports() -> tuple[dict[str, int], str]:
    """Each export module's exit code when imported alone after `django.setup()` (0: it did not
    import sessions.tasks), and what the children said."""
    result = _import_each(*EXPORT_MODULES)
    assert result.returncode == 0, result.stderr
    codes = {}
    for line in result.stdout.splitlines():
        module, code = line.rsplit(" ", 1)
        codes[module] = int(code)
    return codes, result.stderr


@pytest.mark.parametrize("module", EXPORT_MODULES)
def test_importing_an_export_module_does_not_import_the_tasks(module, fresh_imports):
    """A fresh interpreter's state: nothing else has imported sessions.tasks before."""
    codes, said = fresh_imports
    assert codes[module] == 0, said


def test_a_module_that_imports_the_tasks_is_caught():
    """The check is not blind: a module that does import the tasks fails it."""
    result = _import_each("sessions.tasks")
    assert result.stdout.split() == ["sessions.tasks", "1"], result.stdout + result.stderr
    assert "imports sessions.tasks" in result.stderr


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
