"""The Safety section inside the note: rows, autosave, computed risk, rejection of inconsistent
answers, completion, content, read-only partial, and frozen rows once signed."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.template.loader import render_to_string

from crisisnotes.accounts.models import User
from safety.cssrs import ITEMS
from safety.models import MeansSafety, RiskFormulation, SafetyScreen
from sessions import registry
from sessions.models import CrisisSession
from sessions.models.notes import NoteStatus
from sessions.registry import Completion
from sessions.services.notes import NoteInvalid
from tests.safety.helpers import HIGH, LOW, MODERATE, reload, save, screen, start_note

pytestmark = pytest.mark.django_db


def test_safety_is_the_first_section(counselor: User) -> None:
    section = registry.sections()[0]
    assert (section.key, section.title, section.order) == ("safety", "Safety", 10)


def test_new_note_has_its_safety_rows(counselor: User) -> None:
    note = start_note(counselor)
    assert SafetyScreen.objects.filter(session=note).exists()
    assert RiskFormulation.objects.filter(session=note).exists()
    assert MeansSafety.objects.filter(session=note).exists()


def test_autosave_stores_answers_and_computed_risk_on_screen_and_note(counselor: User) -> None:
    note = start_note(counselor)
    save(note, **screen(HIGH))
    row = SafetyScreen.objects.get(session=note)
    assert (row.q1, row.q2, row.q3, row.q4, row.q5, row.q6, row.q6b) == (
        True, True, True, True, False, False, None,
    )  # fmt: skip
    assert row.risk == "high"
    assert CrisisSession.objects.get(pk=note.pk).screen_risk == "high"


def test_risk_appears_once_determined_even_before_the_screen_is_finished(
    counselor: User,
) -> None:
    note = start_note(counselor)
    save(note, **screen({"q1": "yes", "q2": "yes", "q4": "yes"}))
    assert SafetyScreen.objects.get(session=note).risk == "high"


def test_changing_answers_recomputes_risk_and_clears_it_when_undetermined(
    counselor: User,
) -> None:
    note = start_note(counselor)
    save(note, **screen(MODERATE))
    assert reload(note).screen_risk == "moderate"
    save(note, **screen({"q1": "yes"}))
    assert reload(note).screen_risk == ""


def test_clinician_level_and_imminent_are_copied_to_the_note(counselor: User) -> None:
    note = start_note(counselor)
    save(
        note,
        **screen(LOW),
        **{"safety-formulation-clinician_level": "high", "safety-formulation-imminent": "on"},
    )
    saved = CrisisSession.objects.get(pk=note.pk)
    assert (saved.screen_risk, saved.clinician_risk, saved.imminent) == ("low", "high", True)
    assert saved.risk_level == "high"


def test_server_rejects_an_answer_to_a_skipped_item_and_saves_nothing(counselor: User) -> None:
    note = start_note(counselor)
    before = reload(note).version
    with pytest.raises(NoteInvalid) as invalid:
        save(
            note,
            **screen({"q1": "yes", "q2": "no", "q3": "yes", "q6": "no"}),
            **{"exploration-precipitating_event": "typed text"},
        )
    form = invalid.value.forms["safety"][0]
    assert form.errors["q3"] == ["Question 3 is skipped when question 2 is no: leave it blank."]
    assert SafetyScreen.objects.get(session=note).q1 is None
    assert reload(note).version == before
    assert reload(note).exploration.precipitating_event == ""


def test_server_rejects_6b_in_the_since_last_contact_version(counselor: User) -> None:
    note = start_note(counselor)
    with pytest.raises(NoteInvalid) as invalid:
        save(
            note,
            **screen({"q1": "no", "q2": "no", "q6": "yes", "q6b": "yes"}),
            **{"safety-screen-version": "since_last_contact"},
        )
    assert "since-last-contact" in invalid.value.forms["safety"][0].errors["q6b"][0]


def test_bad_agitation_value_is_rejected(counselor: User) -> None:
    note = start_note(counselor)
    with pytest.raises(NoteInvalid):
        save(note, **{"safety-means-agitation": "11"})


def test_completion_moves_from_empty_to_complete(counselor: User) -> None:
    section = registry.section("safety")
    note = start_note(counselor)
    assert section.completion(note=reload(note)) == Completion.EMPTY
    save(note, **screen(LOW))
    assert section.completion(note=reload(note)) == Completion.IN_PROGRESS
    save(
        note,
        **{
            "safety-formulation-clinician_level": "low",
            "safety-formulation-rationale": "Passive ideation only.",
            "safety-means-agitation": "3",
        },
    )
    assert section.completion(note=reload(note)) == Completion.COMPLETE


def test_content_is_stable_and_covers_the_answers(counselor: User) -> None:
    section = registry.section("safety")
    note = start_note(counselor)
    save(note, **screen(HIGH), **{"safety-means-agitation": "6"})
    first = section.content(note=reload(note))
    assert first == section.content(note=reload(note))
    assert first["screen"]["q4"] is True
    assert first["screen"]["risk"] == "high"
    assert first["means"]["agitation"] == 6


def test_readonly_partial_shows_the_screen_verbatim_and_has_no_script(counselor: User) -> None:
    section = registry.section("safety")
    note = start_note(counselor)
    save(
        note,
        **screen(HIGH),
        **{
            "safety-formulation-rationale": "<b>Plan</b> and intent",
            "safety-means-lethality_notes": "Stockpiled pills",
        },
    )
    note = reload(note)
    html = render_to_string(
        section.readonly_template_name,
        {"note": note, "section": section, "pdf": True, **section.readonly_context(note=note)},
    )
    for item in ITEMS[:5]:
        assert item.text in html.replace("&#x27;", "'")
    assert "High" in html
    assert "Stockpiled pills" in html
    assert "&lt;b&gt;Plan&lt;/b&gt;" in html
    assert "<script" not in html
    assert "http" not in html


def test_edit_partial_renders_items_with_linkable_ids(counselor: User) -> None:
    section = registry.section("safety")
    note = reload(start_note(counselor))
    forms = section.get_forms(note=note)
    html = render_to_string(
        section.template_name,
        {"note": note, "section": section, "forms": forms, "problems": [],
         **section.edit_context(note=note, forms=forms)},
    )  # fmt: skip
    for field_id in (
        "id_safety-screen-q1",
        "id_safety-screen-q6b",
        "id_safety-formulation-clinician_level_0",
        "id_safety-means-firearms_0",
        "id_safety-formulation-rationale",
        "id_safety-means-agitation",
        'id="safety-plan"',
        'id="safety-supervisor"',
        'id="safety-disclosures"',
    ):
        assert field_id in html
    # Inside the note's one form: a `required` attribute would block saving and signing.
    assert not re.search(r"<(input|select|textarea)[^>]*\srequired[\s>=]", html)


def render_edit(note: CrisisSession) -> str:
    section = registry.section("safety")
    note = reload(note)
    forms = section.get_forms(note=note)
    return render_to_string(
        section.template_name,
        {"note": note, "section": section, "forms": forms, "problems": [],
         **section.edit_context(note=note, forms=forms)},
    )  # fmt: skip


def render_readonly(note: CrisisSession) -> str:
    section = registry.section("safety")
    note = reload(note)
    return render_to_string(
        section.readonly_template_name,
        {"note": note, "section": section, "pdf": True, **section.readonly_context(note=note)},
    )


def test_unfinished_screen_shows_its_lower_bound_but_stores_no_risk(counselor: User) -> None:
    note = start_note(counselor)
    save(note, **screen({"q1": "yes", "q2": "yes", "q3": "yes"}))
    assert SafetyScreen.objects.get(session=note).risk == ""
    risk = re.search(r'id="cssrs-risk"[^>]*>([^<]*)<', render_edit(note))
    assert risk and risk.group(1) == "at least Moderate so far"
    assert "not determined; at least Moderate from the answers given" in render_readonly(note)
    save(note, **screen({"q1": "no"}))
    risk = re.search(r'id="cssrs-risk"[^>]*>([^<]*)<', render_edit(note))
    assert risk and risk.group(1) == "not determined yet"


def test_selects_offer_a_dash_for_no_answer_not_djangos_dashes(counselor: User) -> None:
    html = render_edit(start_note(counselor))
    assert "---------" not in html
    for name in ("safety-screen-not_done_reason", "safety-means-means_not_done_reason"):
        select = re.search(rf'<select name="{name}".*?</select>', html, re.S)
        assert select and '<option value="" selected>—</option>' in select.group(0)


def test_screen_version_radios_have_bootstrap_form_check_styling(counselor: User) -> None:
    html = render_edit(start_note(counselor))
    radios = re.findall(r'<input[^>]*name="safety-screen-version"[^>]*>', html)
    assert len(radios) == 2
    assert all('class="form-check-input"' in radio for radio in radios)


def test_signed_record_names_the_agitation_scale_without_nested_brackets(
    counselor: User,
) -> None:
    note = start_note(counselor)
    save(note, **{"safety-means-agitation": "3"})
    html = render_readonly(note)
    assert re.search(r"<dt[^>]*>Agitation, (clinician rating 0–10|BARS 1–7)</dt>", html)
    assert "((" not in html and "0–10))" not in html


@pytest.mark.parametrize(
    "table", ["safety_safetyscreen", "safety_riskformulation", "safety_meanssafety"]
)
def test_safety_rows_of_a_signed_note_reject_raw_updates(counselor: User, table: str) -> None:
    note = start_note(counselor)
    CrisisSession.objects.filter(pk=note.pk).update(status=NoteStatus.SIGNED)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET updated_at = now() WHERE session_id = %s", [note.pk])
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE session_id = %s", [note.pk])


def test_safety_rows_of_a_draft_can_change(counselor: User) -> None:
    note = start_note(counselor)
    assert SafetyScreen.objects.filter(session=note).update(q1=True) == 1


SCENARIOS: list[dict[str, Any]] = [
    {
        "safety-formulation-clinician_level": "low",
        "safety-formulation-homicidal_ideation": "present",
        "safety-formulation-abuse_disclosed": "on",
        "safety-means-agitation": "9",
        "safety-means-firearms": "yes",
    },
    {"follow_up-disposition": "stabilised_home", "safety-screen-q5": None},
    {
        "safety-means-firearms": "yes",
        "safety-formulation-clinician_level": "high",
    },
]


def test_every_safety_problem_links_to_an_element_on_the_note_page(
    client: Any, counselor: User
) -> None:
    from django.urls import reverse

    from safety.rules import RULES
    from tests.conftest import login

    login(client, counselor)
    seen = set()
    for overrides in SCENARIOS:
        note = start_note(counselor, modality="video")
        save(note, **{**screen(HIGH), **overrides})
        problems = [p for rule in RULES for p in rule(reload(note))]
        page = client.get(reverse("crisis_sessions:note_detail", args=[note.pk])).content.decode()
        for problem in problems:
            assert f'id="{problem.field_id}"' in page, problem
            seen.add(problem.code)
    assert {
        "agitation_bars", "agitation", "cssrs_incomplete", "clinician_level", "rationale",
        "override_reason", "safety_plan", "means_firearms", "means_medications",
        "means_safety_notes", "supervisor_notified", "disposition_rationale",
        "followup_task_high", "duty_to_warn", "duty_to_warn_consulted", "abuse_report",
    } <= seen  # fmt: skip


# The C-SSRS row loop of templates/safety/partials/section_edit.html before
# cssrs_item_rows_html wrote the rows.
_CSSRS_ROWS_AS_A_TEMPLATE = "{% load i18n %}" + (
    Path(__file__).with_name("rows_before_cssrs_item_rows.html").read_text()
)


def test_cssrs_rows_are_the_markup_of_the_template_they_replace(counselor: User) -> None:
    """cssrs_item_rows_html writes the C-SSRS rows in Python: exactly what the template loop
    wrote from the same context, empty, answered, posted with errors, in the other version,
    for a client whose language has no validated wording, and in Spanish."""
    from django.template import Context, Template
    from django.utils import translation

    from safety.sections import cssrs_item_rows_html
    from tests.sessions.note_helpers import form_data

    section = registry.section("safety")
    loop = Template(_CSSRS_ROWS_AS_A_TEMPLATE)
    empty = start_note(counselor)
    answered = save(start_note(counselor), **screen(HIGH))
    since = save(
        start_note(counselor),
        **{"safety-screen-version": "since_last_contact", "safety-screen-q1": "no"},
    )
    answered.client.language = "fr"
    answered.client.save()
    invalid = reload(start_note(counselor))
    posted = form_data(invalid, **screen({"q1": "no", "q2": "yes", "q6": "<b>maybe</b>"}))
    cases: list[tuple[CrisisSession, Any]] = [(empty, None), (answered, None), (since, None)]
    cases.append((invalid, posted))
    checked = 0
    for language in ("en", "es"):
        with translation.override(language):
            for note, data in cases:
                note = reload(note)
                forms = section.get_forms(note=note, data=data)
                if data is not None:
                    assert not all(form.is_valid() for form in forms)
                context = section.edit_context(note=note, forms=forms)
                # The loop as the file holds it: indented as in the page, ending a line.
                expected = loop.render(Context(context))
                assert f"      {cssrs_item_rows_html(context)}\n" == expected
                checked += expected.count("<tr ")
    assert checked == 2 * 4 * len(ITEMS)
