"""Safety services: supervisor notified, plan versions, disclosures, and their audit rows."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from crisisnotes.accounts.models import Clinic, User
from crisisnotes.audit.models import Action, AuditEvent
from crisisnotes.notifications.models import Notification
from safety.exceptions import NoSupervisor, NoteNotEditable, NotYourNotification
from safety.models import PlanStep, SafetyPlanVersion, SupervisorNotification
from safety.selectors import plan_in_force
from safety.services import (
    disclosure_create,
    plan_default_steps,
    plan_diff,
    safety_plan_save,
    supervisor_acknowledge,
    supervisor_notify,
)
from sessions.models import Client, CrisisSession
from sessions.models.notes import NoteStatus
from sessions.services.supervision import consult_reply_post
from tests.factories import ClientFactory, UserFactory
from tests.safety.helpers import start_note

pytestmark = pytest.mark.django_db


def full_steps(client: Client) -> dict[str, Any]:
    steps = plan_default_steps(client=client)
    steps.update(
        warning_signs=["Staying in bed all day"],
        coping=["Listen to the harbour playlist"],
        distraction=[{"name": "Corner café", "phone": ""}],
        help=[{"name": "Aunt Rowan (invented)", "phone": "555-010-3344"}],
        environment=["Pills kept by my sister"],
    )
    return steps


# --- supervisor notified ----------------------------------------------------------------------


def test_notify_fills_who_and_when_and_notifies_the_team_supervisor(
    counselor: User, supervisor: User
) -> None:
    note = start_note(counselor)
    record = supervisor_notify(actor=counselor, note=note)
    assert record.supervisor == supervisor
    assert record.supervisor_name == "Morgan Testsuper, LCSW"
    assert record.method == "in_app"
    assert record.notified_at is not None
    assert record.response == ""
    notification = Notification.objects.get(recipient=supervisor)
    assert notification.event_key == f"safety:notify:{note.pk}:1"
    assert notification.url == f"/safety/consultations/{record.pk}/"
    assert note.client.alias not in notification.message
    assert AuditEvent.objects.filter(action=Action.NOTIFY, object_id=str(note.pk)).exists()


def test_notifying_twice_sends_two_notifications(counselor: User, supervisor: User) -> None:
    note = start_note(counselor)
    supervisor_notify(actor=counselor, note=note)
    supervisor_notify(actor=counselor, note=note)
    assert Notification.objects.filter(recipient=supervisor).count() == 2


def test_notify_marks_the_note_as_asking_for_a_consult_once(
    counselor: User, supervisor: User
) -> None:
    note = start_note(counselor)
    first = supervisor_notify(actor=counselor, note=note)
    supervisor_notify(actor=counselor, note=note)
    note.refresh_from_db()
    # The first request's time: the live board shows how long the counselor has been waiting.
    assert note.consult_requested_at == first.notified_at


def test_a_consult_reply_answers_the_supervisors_pending_notification(
    counselor: User, supervisor: User
) -> None:
    note = start_note(counselor)
    pending = supervisor_notify(actor=counselor, note=note)
    answered_by_phone = SupervisorNotification.objects.create(
        session=note,
        supervisor=supervisor,
        supervisor_name=supervisor.signature_line,
        notified_at=pending.notified_at,
        method="phone",
        response="Said on the phone",
        responded_at=pending.notified_at,
        created_by=counselor,
    )
    consult_reply_post(supervisor=supervisor, note=note, text="Send mobile crisis now.")
    pending.refresh_from_db()
    answered_by_phone.refresh_from_db()
    assert pending.is_complete and pending.response == "Send mobile crisis now."
    assert answered_by_phone.response == "Said on the phone"


def test_notify_without_a_team_supervisor_is_refused(clinic: Clinic) -> None:
    loner = UserFactory(clinic=clinic)
    note = start_note(loner)
    with pytest.raises(NoSupervisor):
        supervisor_notify(actor=loner, note=note)
    assert not SupervisorNotification.objects.exists()


def test_supervisor_response_fills_the_record_and_tells_the_author(
    counselor: User, supervisor: User
) -> None:
    note = start_note(counselor)
    record = supervisor_notify(actor=counselor, note=note)
    supervisor_acknowledge(actor=supervisor, record=record, response="Agree: mobile crisis.")
    record.refresh_from_db()
    assert record.response == "Agree: mobile crisis."
    assert record.responded_at is not None
    assert record.is_complete
    assert Notification.objects.filter(recipient=counselor, kind="safety_ack").exists()
    assert AuditEvent.objects.filter(
        action=Action.UPDATE, actor=supervisor, object_id=str(note.pk)
    ).exists()


def test_another_supervisor_cannot_respond(
    counselor: User, supervisor: User, clinic: Clinic
) -> None:
    note = start_note(counselor)
    record = supervisor_notify(actor=counselor, note=note)
    other = UserFactory(clinic=clinic, is_supervisor=True)
    with pytest.raises(NotYourNotification):
        supervisor_acknowledge(actor=other, record=record, response="Me too")


def test_response_after_signing_is_refused(counselor: User, supervisor: User) -> None:
    note = start_note(counselor)
    record = supervisor_notify(actor=counselor, note=note)
    CrisisSession.objects.filter(pk=note.pk).update(status=NoteStatus.SIGNED)
    with pytest.raises(NoteNotEditable):
        supervisor_acknowledge(actor=supervisor, record=record, response="Late")


# --- safety plan ------------------------------------------------------------------------------


def test_new_plan_prefills_988_the_clinics_crisis_line_and_the_emergency_department(
    counselor: User,
) -> None:
    client: Client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    professionals = plan_default_steps(client=client)[PlanStep.PROFESSIONALS]
    assert {"name": "988 Suicide & Crisis Lifeline (call or text)", "phone": "988"} in professionals
    assert {"name": "Test Crisis Line", "phone": "555-010-0000"} in professionals
    # CLINICAL.md §7 also names the local emergency department; the clinic does not record one,
    # so the line is named for the counselor to complete, with no made-up number.
    assert professionals[-1] == {"name": "Nearest emergency department", "phone": ""}


def test_an_emergency_department_line_left_without_a_number_is_not_saved(
    counselor: User,
) -> None:
    client: Client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    version, _ = safety_plan_save(
        actor=counselor, client=client, steps=full_steps(client), fields={}
    )
    names = [entry["name"] for entry in version.steps[PlanStep.PROFESSIONALS]]
    assert "Nearest emergency department" not in names
    assert "988 Suicide & Crisis Lifeline (call or text)" in names
    steps = full_steps(client)
    steps[PlanStep.PROFESSIONALS][-1] = {
        "name": "Nearest emergency department",
        "phone": "555-010-0911",
    }
    completed, _ = safety_plan_save(actor=counselor, client=client, steps=steps, fields={})
    assert {"name": "Nearest emergency department", "phone": "555-010-0911"} in completed.steps[
        PlanStep.PROFESSIONALS
    ]


def test_saving_a_change_creates_a_new_version_and_keeps_the_old(counselor: User) -> None:
    note = start_note(counselor)
    client = note.client
    first, created = safety_plan_save(
        actor=counselor, client=client, steps=full_steps(client), fields={}, session=note
    )
    assert created and first.number == 1 and first.is_active and first.session == note
    steps = full_steps(client)
    steps["coping"] = ["Listen to the harbour playlist", "Cold water on my face"]
    second, created = safety_plan_save(
        actor=counselor, client=client, steps=steps, fields={"likelihood_of_use": 7}
    )
    assert created and second.number == 2
    first.refresh_from_db()
    assert first.steps["coping"] == ["Listen to the harbour playlist"]
    assert first.likelihood_of_use is None
    assert (
        AuditEvent.objects.filter(
            action=Action.CREATE, object_type="safety.safetyplanversion"
        ).count()
        == 2
    )


def test_saving_without_changes_creates_no_version(counselor: User) -> None:
    client: Client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    safety_plan_save(actor=counselor, client=client, steps=full_steps(client), fields={})
    version, created = safety_plan_save(
        actor=counselor, client=client, steps=full_steps(client), fields={}
    )
    assert not created and version.number == 1
    assert SafetyPlanVersion.objects.filter(client=client).count() == 1


def test_plan_in_force_is_the_sessions_own_else_the_newest_before_signing_in_one_query(
    counselor: User, django_assert_num_queries: Any
) -> None:
    note = start_note(counselor)
    client = note.client

    def version(sign: str, session: CrisisSession | None = None) -> SafetyPlanVersion:
        steps = full_steps(client)
        steps["warning_signs"] = [sign]
        saved, created = safety_plan_save(
            actor=counselor, client=client, steps=steps, fields={}, session=session
        )
        assert created
        return saved

    with django_assert_num_queries(1):
        assert plan_in_force(note=note) is None
    first = version("Staying in bed all day")
    second = version("Not answering the phone")
    with django_assert_num_queries(1):
        assert plan_in_force(note=note) == second  # a draft: the client's newest
    # Signed between the two versions (in memory: the selector reads signed_at only): the
    # version saved after the signature was not the plan in force.
    note.signed_at = first.created_at
    with django_assert_num_queries(1):
        assert plan_in_force(note=note) == first
    note.signed_at = None
    own = version("Giving away my things", session=note)
    version("Pacing at night")  # newer, but saved outside this session
    with django_assert_num_queries(1):
        assert plan_in_force(note=note) == own


def test_plan_versions_are_immutable_in_the_database(counselor: User) -> None:
    client: Client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    version, _ = safety_plan_save(
        actor=counselor, client=client, steps=full_steps(client), fields={}
    )
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE safety_safetyplanversion SET barriers = 'changed' WHERE id = %s", [version.pk]
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        SafetyPlanVersion.objects.filter(pk=version.pk).update(copy_given=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        SafetyPlanVersion.objects.filter(pk=version.pk).delete()
    version.refresh_from_db()
    assert version.barriers == "" and version.copy_given is False


def test_plan_is_active_only_with_steps_1_2_5_and_6(counselor: User) -> None:
    client: Client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    for missing in ("warning_signs", "coping", "professionals", "environment"):
        steps = full_steps(client)
        steps[missing] = []
        assert not SafetyPlanVersion(client=client, steps=steps).is_active, missing
    steps = full_steps(client)
    steps["distraction"] = steps["help"] = []
    assert SafetyPlanVersion(client=client, steps=steps).is_active


def test_diff_names_what_changed(counselor: User) -> None:
    client: Client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    old = SafetyPlanVersion(client=client, steps=full_steps(client), likelihood_of_use=4)
    steps = full_steps(client)
    steps["help"] = [{"name": "Neighbour Jo (invented)", "phone": "555-010-7788"}]
    new = SafetyPlanVersion(client=client, steps=steps, likelihood_of_use=8)
    changes = {c["label"]: c for c in plan_diff(old, new)}
    assert changes[PlanStep.HELP.label]["removed"] == ["Aunt Rowan (invented) – 555-010-3344"]
    assert changes[PlanStep.HELP.label]["added"] == ["Neighbour Jo (invented) – 555-010-7788"]
    assert changes["Likelihood of use (0–10)"]["added"] == ["8"]
    assert PlanStep.COPING.label not in changes


# --- disclosures --------------------------------------------------------------------------------


def test_disclosure_is_recorded_for_the_sessions_client_and_audited(counselor: User) -> None:
    from django.utils import timezone

    note = start_note(counselor)
    disclosure = disclosure_create(
        actor=counselor,
        note=note,
        data={
            "type": "emergency_services",
            "legal_basis": "Imminent danger (invented statute 12.3)",
            "recipient": "County dispatch",
            "disclosed_at": timezone.now(),
            "information_disclosed": "Location and risk level.",
            "purpose": "Welfare check",
            "individual_informed": True,
        },
    )
    assert disclosure.client == note.client and disclosure.clinic == note.clinic
    assert AuditEvent.objects.filter(
        action=Action.CREATE, object_type="safety.disclosure", object_id=str(disclosure.pk)
    ).exists()


def test_disclosure_rows_of_a_signed_note_are_frozen(counselor: User) -> None:
    from django.utils import timezone

    note = start_note(counselor)
    disclosure = disclosure_create(
        actor=counselor,
        note=note,
        data={
            "type": "duty_to_warn",
            "legal_basis": "Duty to warn (invented)",
            "recipient": "Harbour police",
            "disclosed_at": timezone.now(),
            "information_disclosed": "Threat",
            "purpose": "Warn",
            "individual_informed": False,
            "not_informed_reason": "Risk of escalation",
        },
    )
    CrisisSession.objects.filter(pk=note.pk).update(status=NoteStatus.SIGNED)
    with pytest.raises(IntegrityError), transaction.atomic():
        type(disclosure).objects.filter(pk=disclosure.pk).update(recipient="someone else")
    with pytest.raises(NoteNotEditable):
        disclosure_create(actor=counselor, note=CrisisSession.objects.get(pk=note.pk), data={})
