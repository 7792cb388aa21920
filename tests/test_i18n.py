"""Every user-facing string is translatable and the Spanish catalogue is complete.

- The template checker (tests/i18n_check.py) finds text outside translation tags; every template
  under templates/ must pass it.
- `makemessages` run on a copy of the sources (so the committed catalogue is never touched)
  extracts every msgid of the `django` and `djangojs` domains and merges the committed Spanish
  catalogue into it: an msgid without a translation, or one msgmerge could only match fuzzily
  (the English text changed), fails the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

from tests.i18n_check import check_source, find_untranslated

ROOT = Path(settings.BASE_DIR)
CATALOGUE = ROOT / "locale" / "es" / "LC_MESSAGES"
# What makemessages reads: the code and templates (not tests, benchmarks or vendored assets).
SOURCES = ("crisisnotes", "safety", "sessions", "templates", "static/js")


# --- the checker itself ----------------------------------------------------------------------


def texts(source: str, *, plain_text: bool = False) -> list[str]:
    return [f.text for f in check_source(source, "t.html", plain_text=plain_text)]


def test_checker_flags_text_between_tags() -> None:
    assert texts("<p>Save the note</p>") == ["Save the note"]


def test_checker_accepts_translate_and_blocktranslate() -> None:
    source = (
        "{% load i18n %}<p>{% translate 'Save the note' %}</p>"
        "<p>{% blocktranslate with n=note.pk %}Note {{ n }}{% endblocktranslate %}</p>"
        "<p>{% blocktrans %}Old tag{% endblocktrans %}</p>"
    )
    assert texts(source) == []


def test_checker_ignores_variables_symbols_entities_comments_scripts_and_styles() -> None:
    source = (
        "<p>{{ client.alias }} · {{ note.pk }} — 12 &amp; &nbsp; (…)</p>{# A comment #}"
        "{% comment %}Not shown{% endcomment %}<script>var x = 'Hello';</script>"
        "<style>.a::after { content: 'Hi'; }</style><a class='navbar-brand'>crisisnotes</a>"
    )
    assert texts(source) == []


def test_checker_flags_user_facing_attributes() -> None:
    source = (
        '<input placeholder="Search clients"><img alt="Logo" src="x.png">'
        '<button aria-label="Close" title="{% translate "Close" %}" data-x="Not text">'
        "{{ icon }}</button>"
        '<input type="submit" value="Send"><input type="hidden" name="a" value="keep">'
    )
    assert texts(source) == ["Search clients", "Logo", "Close", "Send"]


def test_checker_flags_text_mixed_with_variables() -> None:
    assert texts("<p>Version {{ plan.number }} saved</p>") == ["Version … saved"]


def test_checker_flags_prose_literals_in_template_tags() -> None:
    source = (
        '{{ risk|default:"Not determined" }}{{ x|default:"—" }}{{ x|yesno:_("Yes,No") }}'
        '{% include "card.html" with label="Follow-ups overdue" active="audit" %}'
    )
    assert [f.text for f in check_source(source, "t.html")] == [
        '"Not determined" (string literal in a template tag)',
        '"Follow-ups overdue" (string literal in a template tag)',
    ]


def test_checker_reads_plain_text_templates_line_by_line() -> None:
    source = "{% load i18n %}{% translate 'Hello' %}\n\nIf it was not you, ignore this.\n"
    assert texts(source, plain_text=True) == ["If it was not you, ignore this."]


def test_checker_reports_line_numbers() -> None:
    [finding] = check_source("{% if x %}\n\n  <p>\n   Late text</p>{% endif %}", "t.html")
    assert (finding.path, finding.line) == ("t.html", 4)


def test_checker_command_line_exit_code(tmp_path: Path) -> None:
    (tmp_path / "ok.html").write_text("{% load i18n %}<p>{% translate 'Fine' %}</p>")
    script = ROOT / "tests" / "i18n_check.py"
    ok = subprocess.run([sys.executable, script, tmp_path], capture_output=True, text=True)
    assert ok.returncode == 0 and ok.stdout == ""
    (tmp_path / "bad.html").write_text("<p>\n  Not fine</p>")
    bad = subprocess.run([sys.executable, script, tmp_path], capture_output=True, text=True)
    assert bad.returncode == 1
    assert bad.stdout.strip() == f"{tmp_path / 'bad.html'}:2: Not fine"


# --- the project -----------------------------------------------------------------------------


def test_every_template_passes_the_checker() -> None:
    findings = find_untranslated([ROOT / "templates"])
    assert not findings, "untranslated template text:\n" + "\n".join(map(str, findings))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, polib.POFile]:
    """makemessages on a copy of the sources, merging the committed Spanish catalogues."""
    work = tmp_path_factory.mktemp("makemessages")
    for name in SOURCES:
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, work / name)
    (work / "locale" / "es" / "LC_MESSAGES").mkdir(parents=True)
    for po in CATALOGUE.glob("*.po"):
        shutil.copy(po, work / "locale" / "es" / "LC_MESSAGES" / po.name)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # Files outside the repository's folder go to ./locale of the copy, never to the repository.
    base = [sys.executable, str(ROOT / "manage.py"), "makemessages", "-l", "es", "--no-obsolete"]
    for domain in ("django", "djangojs"):
        subprocess.run([*base, "-d", domain], cwd=work, env=env, check=True, capture_output=True)
    out = work / "locale" / "es" / "LC_MESSAGES"
    return {p.stem: polib.pofile(str(p)) for p in out.glob("*.po")}


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_spanish_catalogue_translates_every_extracted_string(
    extracted: dict[str, polib.POFile], domain: str
) -> None:
    po = extracted.get(domain)
    if po is None:  # no JavaScript string is marked for translation (yet): nothing to miss
        assert domain == "djangojs"
        return
    untranslated = [e.msgid for e in po if not e.obsolete and not e.translated()]
    fuzzy = [e.msgid for e in po if not e.obsolete and "fuzzy" in e.flags]
    assert not untranslated, f"{domain}: no Spanish for {untranslated}"
    assert not fuzzy, f"{domain}: fuzzy (the English changed) {fuzzy}"


@pytest.mark.parametrize("po_path", sorted(CATALOGUE.glob("*.po")), ids=lambda p: p.name)
def test_committed_catalogue_header_is_final_with_spanish_plurals(po_path: Path) -> None:
    po = polib.pofile(str(po_path))
    assert not po.metadata_is_fuzzy
    assert po.metadata["Language"] == "es"
    assert po.metadata["Plural-Forms"] == "nplurals=2; plural=(n != 1);"
    assert all(sorted(e.msgstr_plural) == [0, 1] for e in po if e.msgid_plural)
