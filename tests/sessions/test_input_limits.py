"""Bad input never corrupts or freezes a record: every free-text field of the note (all sections,
safety included), quick notes, addenda, the process note, client fields, follow-ups and the
safety plan take text up to their limit and refuse one character more, or a control character,
with a clear message — and nothing is saved half. Dates in the future, an end before the start,
a follow-up due before the session and a birth date after today are refused the same way."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django import forms
from django.urls import reverse
from django.utils import timezone

from crisisnotes.validators import CLOCK_SKEW, LONG_TEXT, QUICK_NOTE
from safety.models import SafetyPlanVersion
from sessions.models import Addendum, Client, FollowUpTask, QuickNote
from sessions.models.notes import AddendumKind, ProcessNote
from sessions.services.notes import note_forms
from tests.factories import ClientFactory, NoteFactory
from tests.sessions.note_helpers import form_data, reload, start_note

pytestmark = pytest.mark.django_db

LOCAL = "%Y-%m-%dT%H:%M"


def _save(client: Any, note: Any, data: dict[str, Any]) -> Any:
    url = reverse("crisis_sessions:note_save", args=[note.pk])
    return client.post(url, data, HTTP_X_AUTOSAVE="1")


def _text_fields(note: Any) -> list[tuple[str, int]]:
    """(HTML name, max length) of every free-text input the note page posts."""
    fields = []
    for section_forms in note_forms(note=reload(note)).values():
        for form in section_forms:
            for name, field in form.fields.items():
                if isinstance(field, forms.CharField) and not field.widget.is_hidden:
                    assert field.max_length, f"{form.add_prefix(name)} has no maximum length"
                    fields.append((form.add_prefix(name), field.max_length))
    return fields


def _stored(note: Any) -> dict[str, Any]:
    note = reload(note)
    return {"version": note.version, **form_data(note)}


def test_every_note_text_field_is_bounded_and_takes_its_limit(counselor_client, counselor):
    note = start_note(counselor)
    fields = _text_fields(note)
    # Every stage is covered, safety's three forms included.
    prefixes = {name.split("-")[0] for name, _ in fields}
    assert {"safety", "exploration", "rapport", "problem_solving", "follow_up"} <= prefixes
    full = {name: "w" * limit for name, limit in fields}
    response = _save(counselor_client, note, form_data(note, **full))
    assert response.status_code == 200, response.json()
    saved = form_data(reload(note))
    for name, limit in fields:
        assert saved[name] == "w" * limit, name


def test_one_character_over_the_limit_is_refused_in_every_field(counselor_client, counselor):
    note = start_note(counselor)
    fields = _text_fields(note)
    before = _stored(note)
    page = form_data(note)  # what the page posts; a refused save changes none of it
    for name, limit in fields:
        response = _save(counselor_client, note, {**page, name: "w" * (limit + 1)})
        assert response.status_code == 400, name
        body = response.json()
        assert body["error"] == "invalid" and "nothing was saved" in body["message"]
        messages = " ".join(m for ms in body["errors"].values() for m in ms)
        assert f"at most {limit} characters" in messages, (name, body)
    assert _stored(note) == before


@pytest.mark.parametrize("bad", ["\x00", "\x1b", "\x07", "\x7f"])
def test_autosave_of_a_control_character_is_a_clear_400_and_keeps_the_draft(
    counselor_client, counselor, bad
):
    note = start_note(counselor)
    _save(
        counselor_client, note, form_data(note, **{"exploration-precipitating_event": "Eviction"})
    )
    before = _stored(note)
    page = form_data(note)  # what the page posts; a refused save changes none of it
    for name, _ in _text_fields(note):
        response = _save(counselor_client, note, {**page, name: f"ok{bad}ok"})
        assert response.status_code == 400, name
        body = response.json()
        field_messages = " ".join(m for ms in body["errors"].values() for m in ms)
        assert "control character" in field_messages, (name, body)
    assert _stored(note) == before
    assert reload(note).exploration.precipitating_event == "Eviction"


@pytest.mark.parametrize(
    "name",
    [
        "exploration-affect",
        "problem_solving-cognitive_errors",
        "safety-formulation-risk_factors",
        "rapport-resources_given",
    ],
)
def test_coded_json_fields_refuse_a_control_character_with_a_400(counselor_client, counselor, name):
    """Lists of codes are stored as JSON: a posted code carrying a control character is an
    unknown code, refused on the field (never a 500), and nothing is saved."""
    note = start_note(counselor)
    before = _stored(note)
    response = _save(counselor_client, note, form_data(note, **{name: ["calm\x00"]}))
    assert response.status_code == 400
    assert response.json()["errors"][f"id_{name}"]
    assert _stored(note) == before


def test_tab_newline_and_unicode_are_ordinary_text(counselor_client, counselor):
    note = start_note(counselor)
    text = "Line one\n\tindented — Zoë said “no” 🙂"
    response = _save(
        counselor_client, note, form_data(note, **{"exploration-precipitating_event": text})
    )
    assert response.status_code == 200
    assert reload(note).exploration.precipitating_event == text


def test_account_forms_refuse_control_characters():
    from crisisnotes.accounts.forms import UserForm
    from crisisnotes.accounts.models import Team

    form = UserForm(data={"full_name": "Robin\x1bTest"}, teams=Team.objects.none())
    assert not form.is_valid()
    assert "control character (U+001B)" in " ".join(form.errors["full_name"])


# --- header dates ------------------------------------------------------------------------------


def _header(note: Any, **times: Any) -> dict[str, Any]:
    return form_data(
        note, **{f"header-{k}": timezone.localtime(v).strftime(LOCAL) for k, v in times.items()}
    )


def test_a_session_cannot_start_or_end_in_the_future(counselor_client, counselor):
    note = start_note(counselor)
    before = _stored(note)
    later = timezone.now() + CLOCK_SKEW + timedelta(minutes=10)
    for field in ("started_at", "ended_at"):
        response = _save(counselor_client, note, _header(note, **{field: later}))
        assert response.status_code == 400
        errors = response.json()["errors"][f"id_header-{field}"]
        assert "cannot be in the future" in errors[0]
    assert _stored(note) == before


def test_a_clock_a_little_ahead_is_accepted(counselor_client, counselor):
    note = start_note(counselor)
    ahead = timezone.now() + CLOCK_SKEW - timedelta(minutes=2)
    response = _save(counselor_client, note, _header(note, ended_at=ahead))
    assert response.status_code == 200
    assert reload(note).ended_at is not None


def test_a_session_cannot_end_before_it_started(counselor_client, counselor):
    note = start_note(counselor)
    before = _stored(note)
    response = _save(
        counselor_client, note, _header(note, ended_at=note.started_at - timedelta(hours=1))
    )
    assert response.status_code == 400
    assert "cannot end before it started" in response.json()["errors"]["id_header-ended_at"][0]
    assert _stored(note) == before


# --- quick notes, addenda, the process note ---------------------------------------------------


def test_quick_note_at_its_limit_is_added_and_over_it_is_refused(counselor_client, counselor):
    note = start_note(counselor)
    url = reverse("crisis_sessions:note_quick_note", args=[note.pk])
    ok = counselor_client.post(url, {"text": "q" * QUICK_NOTE}, HTTP_HX_REQUEST="true")
    assert ok.status_code == 200 and QuickNote.objects.filter(session=note).count() == 1
    for text, message in (
        ("q" * (QUICK_NOTE + 1), f"at most {QUICK_NOTE} characters"),
        ("tab\x1bbed", "control character (U+001B)"),
    ):
        response = counselor_client.post(url, {"text": text}, HTTP_HX_REQUEST="true")
        page = response.content.decode()
        assert message in page
        assert text in page  # the typed text stays in the box
        assert QuickNote.objects.filter(session=note).count() == 1


def test_addendum_with_a_control_character_or_too_long_is_refused(counselor_client, counselor):
    note = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    url = reverse("crisis_sessions:note_addendum", args=[note.pk])
    for data, message in (
        ({"text": "Wrong\x00client", "reason": "Mix-up"}, "control character (NUL)"),
        ({"text": "x" * (LONG_TEXT + 1), "reason": "Mix-up"}, f"at most {LONG_TEXT}"),
        ({"text": "Fine", "reason": "r\x08"}, "control character (U+0008)"),
    ):
        response = counselor_client.post(url, {"kind": AddendumKind.ADDENDUM, **data})
        assert response.status_code == 400
        assert message in response.content.decode()
    assert not Addendum.objects.filter(session=note).exists()
    ok = counselor_client.post(
        url, {"kind": AddendumKind.ADDENDUM, "text": "x" * LONG_TEXT, "reason": "Late detail"}
    )
    assert ok.status_code == 302 and Addendum.objects.filter(session=note).count() == 1


def test_process_note_refuses_a_control_character_and_keeps_the_typed_text(
    counselor_client, counselor
):
    note = start_note(counselor)
    url = reverse("crisis_sessions:note_process_note", args=[note.pk])
    assert counselor_client.post(url, {"text": "first"}, HTTP_HX_REQUEST="true").status_code == 200
    response = counselor_client.post(url, {"text": "second\x00"}, HTTP_HX_REQUEST="true")
    page = response.content.decode()
    assert "Not saved" in page and "control character (NUL)" in page
    assert ProcessNote.objects.get(session=note).text == "first"
    too_long = counselor_client.post(url, {"text": "p" * (LONG_TEXT + 1)}, HTTP_HX_REQUEST="true")
    assert f"at most {LONG_TEXT} characters" in too_long.content.decode()
    assert ProcessNote.objects.get(session=note).text == "first"


# --- clients -----------------------------------------------------------------------------------


def _client_post(**overrides: Any) -> dict[str, Any]:
    return {"alias": "Caller, green scarf", "start_session": "", "modality": "", **overrides}


def test_client_fields_are_bounded_and_clean(counselor_client, counselor):
    url = reverse("crisis_sessions:client_create")
    for overrides, message in (
        ({"alias": "Caller\x00"}, "control character (NUL)"),
        ({"location": "Quay\x1bStreet"}, "control character (U+001B)"),
        ({"supports_notes": "s" * (LONG_TEXT + 1)}, f"at most {LONG_TEXT} characters"),
        ({"name": "n" * 201}, "at most 200 characters"),
    ):
        response = counselor_client.post(url, _client_post(**overrides))
        assert response.status_code == 200
        assert message in response.content.decode()
    assert not Client.objects.filter(clinic=counselor.clinic).exists()
    response = counselor_client.post(
        url, _client_post(supports_notes="s" * LONG_TEXT, name="n" * 200)
    )
    assert response.status_code == 302
    assert Client.objects.get(clinic=counselor.clinic).supports_notes == "s" * LONG_TEXT


def test_a_client_cannot_be_born_in_the_future(counselor_client, counselor):
    client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    url = reverse("crisis_sessions:client_edit", args=[client.pk])
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = counselor_client.post(
        url, {"alias": client.alias, "date_of_birth": tomorrow.isoformat()}
    )
    assert response.status_code == 200
    assert "date of birth cannot be in the future" in response.content.decode()
    client.refresh_from_db()
    assert client.date_of_birth is None
    today = timezone.localdate()
    response = counselor_client.post(url, {"alias": client.alias, "date_of_birth": today})
    assert response.status_code == 302
    client.refresh_from_db()
    assert client.date_of_birth == today


# --- follow-ups --------------------------------------------------------------------------------


def _task(counselor: Any, due: Any, purpose: str = "Check in") -> dict[str, Any]:
    return {
        "followup-due_at": timezone.localtime(due).strftime(LOCAL),
        "followup-method": "call",
        "followup-assigned_to": counselor.pk,
        "followup-purpose": purpose,
    }


def test_a_follow_up_cannot_be_due_before_the_session(counselor_client, counselor):
    note = start_note(counselor)
    url = reverse("crisis_sessions:followup_add", args=[note.pk])
    early = note.started_at - timedelta(hours=2)
    response = counselor_client.post(url, _task(counselor, early), HTTP_HX_REQUEST="true")
    assert "cannot be due before the session" in response.content.decode()
    assert not FollowUpTask.objects.filter(session=note).exists()
    later = note.started_at + timedelta(hours=20)
    counselor_client.post(url, _task(counselor, later), HTTP_HX_REQUEST="true")
    assert FollowUpTask.objects.filter(session=note).count() == 1


def test_follow_up_texts_refuse_control_characters(counselor_client, counselor):
    note = start_note(counselor)
    url = reverse("crisis_sessions:followup_add", args=[note.pk])
    due = note.started_at + timedelta(hours=20)
    response = counselor_client.post(
        url, _task(counselor, due, purpose="Call\x07back"), HTTP_HX_REQUEST="true"
    )
    assert "control character (U+0007)" in response.content.decode()
    assert not FollowUpTask.objects.filter(session=note).exists()


# --- the safety plan (its contacts are posted as lists, stored as JSON) ----------------------


def _plan_post(**overrides: Any) -> dict[str, Any]:
    return {
        "warning_signs": "Not sleeping",
        "coping": "Walk by the harbour",
        "environment": "Sister holds the medication",
        "professionals-name": ["Harbour Crisis Line"],
        "professionals-phone": ["555-0100"],
        **overrides,
    }


def test_safety_plan_contacts_and_steps_refuse_control_characters_and_overlong_text(
    counselor_client, counselor
):
    client: Client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    url = reverse("safety:plan_edit", args=[client.pk])
    for overrides, message in (
        ({"help-name": ["Aunt\x00Rowan"], "help-phone": ["555"]}, "control character (NUL)"),
        ({"help-name": ["A" * 201], "help-phone": ["555"]}, "at most 200 are allowed"),
        ({"help-name": ["Aunt"], "help-phone": ["5" * 41]}, "at most 40 are allowed"),
        ({"coping": "Walk\x1b"}, "control character (U+001B)"),
        ({"barriers": "b" * (LONG_TEXT + 1)}, f"at most {LONG_TEXT} characters"),
    ):
        response = counselor_client.post(url, _plan_post(**overrides))
        assert response.status_code == 200, overrides
        assert message in response.content.decode(), overrides
    assert not SafetyPlanVersion.objects.filter(client=client).exists()
    response = counselor_client.post(
        url, _plan_post(**{"help-name": ["A" * 200], "help-phone": ["5" * 40]})
    )
    assert response.status_code == 302
    assert SafetyPlanVersion.objects.get(client=client).steps["help"] == [
        {"name": "A" * 200, "phone": "5" * 40}
    ]
