"""Safety pages: scoping (another clinic's client, plan, disclosure → 404), the plan editor from
inside a session, compare, the client copy (HTML and a one-page PDF), disclosures, the
supervisor's response page, client page panels, and the audit rows every read writes."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import Action, AuditEvent
from safety.models import Disclosure, SafetyPlanVersion, SupervisorNotification
from safety.services import disclosure_create, safety_plan_save, supervisor_notify
from sessions.models import Client
from tests.conftest import login
from tests.factories import ClientFactory
from tests.safety.helpers import start_note
from tests.safety.test_services import full_steps

pytestmark = pytest.mark.django_db


def plan_for(client: Client, user: User, **changes: Any) -> SafetyPlanVersion:
    steps = full_steps(client)
    steps.update(changes)
    return safety_plan_save(actor=user, client=client, steps=steps, fields={})[0]


def a_disclosure(note: Any) -> Disclosure:
    return disclosure_create(
        actor=note.author,
        note=note,
        data={
            "type": "duty_to_warn",
            "legal_basis": "Duty to warn (invented statute)",
            "recipient": "Harbour Police Department",
            "recipient_address": "1 Quay Street",
            "reference_number": "HPD-0042",
            "disclosed_at": timezone.now(),
            "information_disclosed": "Threat against a named neighbour.",
            "purpose": "Protect the neighbour.",
            "individual_informed": True,
        },
    )


@pytest.fixture
def elsewhere(other_clinic: Any, outsider: User) -> Client:
    return ClientFactory(clinic=other_clinic, created_by=outsider)


# --- scoping -----------------------------------------------------------------------------------


def test_another_clinics_plan_pages_are_404(
    counselor_client: DjangoClient, elsewhere: Client, outsider: User
) -> None:
    plan_for(elsewhere, outsider)
    for name, args in (
        ("safety:plan", [elsewhere.pk]),
        ("safety:plan_edit", [elsewhere.pk]),
        ("safety:plan_version", [elsewhere.pk, 1]),
        ("safety:plan_compare", [elsewhere.pk]),
        ("safety:plan_copy", [elsewhere.pk]),
        ("safety:plan_copy_pdf", [elsewhere.pk]),
        ("safety:disclosure_accounting", [elsewhere.pk]),
    ):
        assert counselor_client.get(reverse(name, args=args)).status_code == 404, name


def test_another_clinics_disclosure_is_404(
    counselor_client: DjangoClient, outsider: User, elsewhere: Client
) -> None:
    disclosure = a_disclosure(start_note(outsider, elsewhere))
    url = reverse("safety:disclosure_detail", args=[disclosure.pk])
    assert counselor_client.get(url).status_code == 404


def test_someone_elses_draft_cannot_be_written_to(
    client: DjangoClient, counselor: User, teammate: User
) -> None:
    note = start_note(counselor)
    login(client, teammate)
    assert client.post(reverse("safety:supervisor_notify", args=[note.pk])).status_code == 404
    assert client.get(reverse("safety:disclosure_new", args=[note.pk])).status_code == 404
    # The plan belongs to the client, so the teammate may edit it, but not through this draft:
    # the editor ignores the session, returns to the plan page and links nothing to the note.
    url = reverse("safety:plan_edit", args=[note.client_id]) + f"?session={note.pk}"
    assert back_links(client.get(url)) == [reverse("safety:plan", args=[note.client_id])] * 2
    assert client.post(url, plan_post(note)).status_code == 302
    assert SafetyPlanVersion.objects.get(client=note.client).session is None


def test_supervisor_response_page_is_only_for_the_notified_supervisor(
    client: DjangoClient, counselor: User, supervisor: User, outsider: User, clinic: Any
) -> None:
    record = supervisor_notify(actor=counselor, note=start_note(counselor))
    url = reverse("safety:supervisor_ack", args=[record.pk])
    login(client, outsider)
    assert client.get(url).status_code == 404
    login(client, counselor)
    assert client.get(url).status_code == 403


def test_admin_cannot_edit_a_plan(
    admin_client_: DjangoClient, clinic: Any, counselor: User
) -> None:
    client = ClientFactory(clinic=clinic, created_by=counselor)
    assert admin_client_.get(reverse("safety:plan_edit", args=[client.pk])).status_code == 403


# --- safety plan pages ------------------------------------------------------------------------


def plan_post(note: Any, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "session": str(note.pk),
        "warning_signs": "Not sleeping\nGiving things away",
        "coping": "Walk by the harbour",
        "environment": "Sister holds the medication",
        "distraction-name": ["Library", ""],
        "distraction-phone": ["", ""],
        "help-name": ["Aunt Rowan (invented)", ""],
        "help-phone": ["555-010-3344", ""],
        "professionals-name": ["988 Suicide & Crisis Lifeline", "Test Crisis Line", ""],
        "professionals-phone": ["988", "555-010-0000", ""],
        "worth_living_for": "My daughter",
        "likelihood_of_use": "8",
        "barriers": "Forgetting it in a crisis",
        "copy_kept_where": "Phone case",
        "copy_given": "on",
    }
    data.update(overrides)
    return data


def test_plan_editor_prefills_step_5_for_a_new_plan(
    counselor_client: DjangoClient, counselor: User
) -> None:
    note = start_note(counselor)
    url = reverse("safety:plan_edit", args=[note.client_id]) + f"?session={note.pk}"
    html = counselor_client.get(url).content.decode()
    assert 'value="988"' in html
    assert 'value="555-010-0000"' in html
    assert 'id="professionals-name-3" value="Nearest emergency department"' in html


def test_plan_editor_asks_for_names_in_step_4_and_can_add_rows(
    counselor_client: DjangoClient, counselor: User
) -> None:
    clinic = counselor.clinic
    clinic.address = "1 Harbour Rd, Testville (invented)"
    clinic.save()
    note = start_note(counselor)
    url = reverse("safety:plan_edit", args=[note.client_id]) + f"?session={note.pk}"
    html = counselor_client.get(url).content.decode()

    def fieldset(step: str) -> str:
        found = re.search(rf'<fieldset[^>]*id="plan-{step}".*?</fieldset>', html, re.S)
        assert found
        return found.group(0)

    assert 'placeholder="Name"' in fieldset("help")
    assert "Name or place" not in fieldset("help")
    assert "Name or place" in fieldset("distraction")
    assert "Your clinic is at 1 Harbour Rd, Testville (invented)." in fieldset("professionals")
    for step in ("distraction", "help", "professionals"):
        # Hidden until static/js/plan_rows.js shows it; without script, the spare rows remain.
        assert re.search(
            r"<button[^>]*data-plan-add[^>]*hidden>Add another</button>", fieldset(step)
        )
        assert len(re.findall(rf'name="{step}-name"', fieldset(step))) >= 2
    assert "js/plan_rows.js" in html


def test_plan_editor_saves_a_version_linked_to_the_session(
    counselor_client: DjangoClient, counselor: User
) -> None:
    note = start_note(counselor)
    url = reverse("safety:plan_edit", args=[note.client_id])
    response = counselor_client.post(url, plan_post(note))
    assert response.status_code == 302
    assert response["Location"].endswith(f"/notes/{note.pk}/#safety-plan")
    version = SafetyPlanVersion.objects.get(client=note.client)
    assert version.session == note and version.is_active
    assert version.steps["warning_signs"] == ["Not sleeping", "Giving things away"]
    assert version.steps["help"] == [{"name": "Aunt Rowan (invented)", "phone": "555-010-3344"}]
    assert version.likelihood_of_use == 8 and version.copy_given

    counselor_client.post(url, plan_post(note, coping="Walk by the harbour\nCall my aunt"))
    assert SafetyPlanVersion.objects.filter(client=note.client).count() == 2
    version.refresh_from_db()
    assert version.steps["coping"] == ["Walk by the harbour"]


def test_plan_panel_opens_the_editor_in_the_note_and_saves_a_version(
    counselor_client: DjangoClient, counselor: User
) -> None:
    """The note's plan panel (htmx): the editor's controls belong to the panel's own form (put
    outside the note's form out of band), the save is the same service, linked to the session."""
    note = start_note(counselor)
    url = reverse("safety:plan_panel", args=[note.pk])
    editor = counselor_client.get(url + "?edit=1", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in editor
    assert re.search(r'<textarea name="warning_signs"[^>]*form="safety-plan-panel-form"', editor)
    assert 'name="help-name" id="help-name-1" value="" placeholder="Name" form=' in editor
    assert 'id="note-side-forms" hx-swap-oob="true"' in editor
    assert AuditEvent.objects.filter(summary="Safety plan editor").count() == 1

    response = counselor_client.post(url, plan_post(note), HTTP_HX_REQUEST="true")
    assert response["HX-Trigger"] == "crisisnotes:plan-saved"
    html = response.content.decode()
    assert "Safety plan version 1 saved; it is active." in html
    assert "(saved in this session)" in html and "safety-plan-panel-form" not in html
    version = SafetyPlanVersion.objects.get(client=note.client)
    assert version.session_id == note.pk and version.is_active

    again = counselor_client.post(url, plan_post(note), HTTP_HX_REQUEST="true")
    assert "No changes: version 1 stays in force." in again.content.decode()
    assert SafetyPlanVersion.objects.filter(client=note.client).count() == 1


def test_plan_panel_is_the_authors_draft_only(
    counselor_client: DjangoClient, counselor: User, teammate: User
) -> None:
    note = start_note(teammate)
    url = reverse("safety:plan_panel", args=[note.pk])
    assert counselor_client.get(url + "?edit=1").status_code == 404
    assert counselor_client.post(url, plan_post(note)).status_code == 404
    assert not SafetyPlanVersion.objects.exists()


def back_links(response: Any) -> list[str]:
    """Where "← Back" and "Cancel" of the plan editor go."""
    html = response.content.decode()
    return re.findall(r'<a [^>]*href="([^"]+)"[^>]*>(?:← Back[^<]*|Cancel)</a>', html)


def test_plan_editor_opened_from_a_note_goes_back_to_the_note(
    counselor_client: DjangoClient, counselor: User
) -> None:
    note = start_note(counselor)
    url = reverse("safety:plan_edit", args=[note.client_id]) + f"?session={note.pk}"
    to_note = reverse("crisis_sessions:note_detail", args=[note.pk]) + "#safety-plan"
    assert back_links(counselor_client.get(url)) == [to_note, to_note]
    # Still so when the save is refused and the editor is shown again.
    refused = counselor_client.post(url, plan_post(note, **{"help-name": ["", ""]}))
    assert refused.status_code == 200
    assert back_links(refused) == [to_note, to_note]


def test_plan_editor_ignores_a_session_that_is_not_my_draft_of_this_client(
    counselor_client: DjangoClient, counselor: User
) -> None:
    note = start_note(counselor)
    other_clients_note = start_note(counselor)
    plan_page = reverse("safety:plan", args=[note.client_id])
    for session in (str(other_clients_note.pk), "999999", "abc"):
        url = reverse("safety:plan_edit", args=[note.client_id]) + f"?session={session}"
        response = counselor_client.get(url)
        assert response.status_code == 200
        assert back_links(response) == [plan_page, plan_page]
    counselor_client.post(url, plan_post(note, session=str(other_clients_note.pk)))
    assert SafetyPlanVersion.objects.get(client=note.client).session is None


def test_a_phone_without_a_name_is_refused(counselor_client: DjangoClient, counselor: User) -> None:
    note = start_note(counselor)
    url = reverse("safety:plan_edit", args=[note.client_id])
    response = counselor_client.post(url, plan_post(note, **{"help-name": ["", ""]}))
    assert response.status_code == 200
    assert "every phone number needs a name" in response.content.decode()
    assert not SafetyPlanVersion.objects.exists()


def test_compare_shows_what_changed(counselor_client: DjangoClient, counselor: User) -> None:
    client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    plan_for(client, counselor)
    plan_for(client, counselor, coping=["Listen to the harbour playlist", "Cold shower"])
    html = counselor_client.get(
        reverse("safety:plan_compare", args=[client.pk]) + "?a=1&b=2"
    ).content.decode()
    assert '<ins class="d-block">Cold shower</ins>' in html


def test_old_versions_stay_readable(counselor_client: DjangoClient, counselor: User) -> None:
    client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    plan_for(client, counselor)
    plan_for(client, counselor, coping=["Something new"])
    html = counselor_client.get(reverse("safety:plan_version", args=[client.pk, 1])).content
    assert b"Listen to the harbour playlist" in html and b"Something new" not in html


def test_client_copy_is_a_plain_page(counselor_client: DjangoClient, counselor: User) -> None:
    client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    plan_for(client, counselor)
    response = counselor_client.get(reverse("safety:plan_copy", args=[client.pk]))
    html = response.content.decode()
    assert "My safety plan" in html and "Aunt Rowan (invented)" in html and "988" in html
    assert "<script" not in html
    assert AuditEvent.objects.filter(
        action=Action.EXPORT, object_type="safety.safetyplanversion"
    ).exists()


def test_client_copy_pdf_is_one_page_with_every_step(
    counselor_client: DjangoClient, counselor: User
) -> None:
    client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    # A full plan: several entries in every step still fits on one page.
    plan_for(
        client,
        counselor,
        warning_signs=["Not sleeping", "Giving things away", "Staying in bed all day"],
        coping=["Walk by the harbour", "Cold water on my face", "Play guitar"],
        distraction=[{"name": "Library", "phone": ""}, {"name": "Café on Quay St", "phone": ""}],
        help=[
            {"name": "Aunt Rowan (invented)", "phone": "555-010-3344"},
            {"name": "Neighbour Jo (invented)", "phone": "555-010-7788"},
        ],
        environment=["Sister holds the medication", "No alcohol at home"],
    )
    response = counselor_client.get(reverse("safety:plan_copy_pdf", args=[client.pk]))
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = " ".join(reader.pages[0].extract_text().split())
    for expected in (
        "Not sleeping",
        "Cold water on my face",
        "Library",
        "Aunt Rowan (invented)",
        "555-010-3344",
        "988",
        "Sister holds the medication",
    ):
        assert expected in text, expected


# --- disclosures -------------------------------------------------------------------------------


def test_disclosure_form_records_a_row_from_inside_the_session(
    counselor_client: DjangoClient, counselor: User
) -> None:
    note = start_note(counselor)
    url = reverse("safety:disclosure_new", args=[note.pk])
    page = counselor_client.get(url)
    assert page.status_code == 200
    assert "---------" not in page.content.decode()
    response = counselor_client.post(
        url,
        {
            "type": "child_abuse",
            "legal_basis": "Child protection act (invented), mandated reporter",
            "recipient": "Child protective services hotline",
            "disclosed_at": "2026-11-23T10:15",
            "information_disclosed": "Child's first name and the concern",
            "purpose": "Mandated report",
            "individual_informed": "on",
        },
    )
    assert response.status_code == 302
    disclosure = Disclosure.objects.get(session=note)
    assert disclosure.client == note.client and disclosure.created_by == counselor


def test_disclosure_form_requires_a_reason_when_the_client_was_not_informed(
    counselor_client: DjangoClient, counselor: User
) -> None:
    note = start_note(counselor)
    response = counselor_client.post(
        reverse("safety:disclosure_new", args=[note.pk]),
        {
            "type": "duty_to_warn",
            "legal_basis": "Duty to warn",
            "recipient": "Police",
            "disclosed_at": "2026-11-23T10:15",
            "information_disclosed": "Threat",
            "purpose": "Warn",
        },
    )
    assert response.status_code == 200
    assert not Disclosure.objects.exists()


def test_accounting_lists_every_disclosure_with_date_and_recipient(
    counselor_client: DjangoClient, counselor: User, django_assert_max_num_queries: Any
) -> None:
    note = start_note(counselor)
    for _ in range(3):
        a_disclosure(note)
    url = reverse("safety:disclosure_accounting", args=[note.client_id])
    with django_assert_max_num_queries(12):
        html = counselor_client.get(url).content.decode()
    assert html.count('data-testid="disclosure-row"') == 3
    assert "Harbour Police Department" in html and "HPD-0042" in html
    assert AuditEvent.objects.filter(
        action=Action.VIEW, summary="Accounting of disclosures", object_id=str(note.client_id)
    ).exists()


# --- supervisor notified -----------------------------------------------------------------------


def test_notify_button_returns_the_panel_with_the_new_record(
    counselor_client: DjangoClient, counselor: User, supervisor: User
) -> None:
    note = start_note(counselor)
    response = counselor_client.post(
        reverse("safety:supervisor_notify", args=[note.pk]), HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert "Morgan Testsuper, LCSW" in html and "waiting for their response" in html
    assert SupervisorNotification.objects.filter(session=note).count() == 1


def test_supervisor_records_a_response_on_the_page(
    client: DjangoClient, counselor: User, supervisor: User
) -> None:
    record = supervisor_notify(actor=counselor, note=start_note(counselor))
    login(client, supervisor)
    url = reverse("safety:supervisor_ack", args=[record.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"response": "Agree with ED transfer."})
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.response == "Agree with ED transfer." and record.is_complete


def test_counselor_records_a_phone_notification(
    counselor_client: DjangoClient, counselor: User, supervisor: User
) -> None:
    note = start_note(counselor)
    response = counselor_client.post(
        reverse("safety:supervisor_record", args=[note.pk]),
        {
            "supervisor-record-supervisor": str(supervisor.pk),
            "supervisor-record-method": "phone",
            "supervisor-record-notified_at": "2026-11-23T10:05",
            "supervisor-record-response": "Call mobile crisis.",
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    record = SupervisorNotification.objects.get(session=note)
    assert record.method == "phone" and record.is_complete


# --- client page panels ------------------------------------------------------------------------


def test_client_page_shows_the_plan_and_disclosure_panels(
    counselor_client: DjangoClient, counselor: User
) -> None:
    note = start_note(counselor)
    plan_for(note.client, counselor)
    a_disclosure(note)
    html = counselor_client.get(
        reverse("crisis_sessions:client_detail", args=[note.client_id])
    ).content.decode()
    assert 'id="client-safety-plan"' in html and "Active" in html
    assert 'id="client-disclosures"' in html and "Harbour Police Department" in html


def test_client_panels_read_only_what_they_show_and_render_as_before(
    counselor: User, django_assert_num_queries: Any
) -> None:
    """The client page's plan and disclosure panels read only the fields they show
    (plan_current_summary, disclosure_recent_for_client): the same HTML as from the full rows
    (plan_current, disclosure_list_for_client), an active and an incomplete plan, several
    disclosures, and no deferred field loaded afterwards (one query per panel); the statements
    they run on PostgreSQL read what their querysets read."""
    from django.template.loader import render_to_string

    from safety.sections import CLIENT_PANELS
    from safety.selectors import (
        _disclosures_recent_queryset,
        _plan_summary_queryset,
        disclosure_list_for_client,
        disclosure_recent_for_client,
        plan_current,
        plan_current_summary,
    )

    note = start_note(counselor)
    for _ in range(7):
        a_disclosure(note)
    client = note.client
    incomplete: dict[str, Any] = {next(iter(full_steps(client))): []}
    for changes, state in (({}, "Active"), (incomplete, "Not active")):
        plan_for(client, counselor, **changes)
        before = {
            "safety_plan": {"client": client, "plan": plan_current(client=client)},
            "disclosures": {
                "client": client,
                "disclosures": list(disclosure_list_for_client(client=client)[:5]),
            },
        }
        for panel in CLIENT_PANELS:
            with django_assert_num_queries(1):
                html = render_to_string(panel.template_name, panel.context(client, counselor))
            assert html == render_to_string(panel.template_name, before[panel.key])
            assert state in html or panel.key == "disclosures"
        # The statements written once read what their querysets read (the rules' homes).
        plan = plan_current_summary(client=client)
        assert plan is not None
        assert _fields(plan) == _fields(_plan_summary_queryset(client).first())
        assert [_fields(d) for d in disclosure_recent_for_client(client=client, limit=5)] == [
            _fields(d) for d in _disclosures_recent_queryset(client)[:5]
        ]


def _fields(row: Any) -> dict[str, Any]:
    """A model read with some fields deferred: the fields it holds."""
    return {k: v for k, v in row.__dict__.items() if not k.startswith("_")}


# --- audit --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "action"),
    [
        ("safety:plan", Action.VIEW),
        ("safety:plan_version", Action.VIEW),
        ("safety:plan_compare", Action.VIEW),
        ("safety:plan_edit", Action.VIEW),
        ("safety:plan_copy", Action.EXPORT),
        ("safety:plan_copy_pdf", Action.EXPORT),
        ("safety:disclosure_accounting", Action.VIEW),
    ],
)
def test_every_read_of_a_plan_or_the_accounting_is_audited(
    counselor_client: DjangoClient, counselor: User, name: str, action: str
) -> None:
    client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    plan_for(client, counselor)
    args = [client.pk, 1] if name == "safety:plan_version" else [client.pk]
    before = AuditEvent.objects.filter(actor=counselor, action=action).count()
    assert counselor_client.get(reverse(name, args=args)).status_code == 200
    assert AuditEvent.objects.filter(actor=counselor, action=action).count() == before + 1


def test_reads_of_a_disclosure_and_the_response_page_are_audited(
    client: DjangoClient, counselor: User, supervisor: User
) -> None:
    note = start_note(counselor)
    disclosure = a_disclosure(note)
    record = supervisor_notify(actor=counselor, note=note)
    login(client, counselor)
    client.get(reverse("safety:disclosure_detail", args=[disclosure.pk]))
    client.get(reverse("safety:disclosure_new", args=[note.pk]))
    assert AuditEvent.objects.filter(actor=counselor, action=Action.VIEW).count() == 2
    login(client, supervisor)
    client.get(reverse("safety:supervisor_ack", args=[record.pk]))
    assert AuditEvent.objects.filter(actor=supervisor, action=Action.VIEW).count() == 1


def test_plan_page_query_budget(
    counselor_client: DjangoClient, counselor: User, django_assert_max_num_queries: Any
) -> None:
    client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    for n in range(5):
        plan_for(client, counselor, coping=[f"Coping idea {n}"])
    with django_assert_max_num_queries(10):
        response = counselor_client.get(reverse("safety:plan", args=[client.pk]))
    assert response.content.decode().count("Version ") >= 5


def test_an_outsider_cannot_write_to_our_notes(
    client: DjangoClient, counselor: User, outsider: User
) -> None:
    note = start_note(counselor)
    login(client, outsider)
    assert client.post(reverse("safety:supervisor_notify", args=[note.pk])).status_code == 404
    assert client.post(reverse("safety:supervisor_record", args=[note.pk])).status_code == 404
    assert not SupervisorNotification.objects.exists()


def test_a_long_plan_still_prints_on_one_page(
    counselor_client: DjangoClient, counselor: User
) -> None:
    client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    contacts = [{"name": f"Invented contact {n}", "phone": f"555-010-{n:04d}"} for n in range(6)]
    plan_for(
        client,
        counselor,
        warning_signs=[f"Warning sign number {n} in my own words" for n in range(6)],
        coping=[f"Coping strategy number {n}" for n in range(6)],
        distraction=contacts,
        help=contacts,
        professionals=contacts,
        environment=[f"Safer surroundings step {n}" for n in range(6)],
    )
    response = counselor_client.get(reverse("safety:plan_copy_pdf", args=[client.pk]))
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Safer surroundings step 5" in text and "555-010-0005" in text
