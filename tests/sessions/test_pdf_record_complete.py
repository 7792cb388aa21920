"""The PDF is the whole signed record: every field the content hash covers is printed.

The list of fields is not written here: it is taken from the hash code itself, by capturing the
canonical JSON `note_content_hash` serialises. Every text field of every row the hash reads is
filled with its own marker (found by model introspection, so a new text field gets one too),
the note is signed, the PDF is rendered and its text extracted with pypdf; then every leaf of the
hashed payload must be printed: a marker as itself, a code as its label, an id as what it
names. A leaf the test does not know how to find in print (a new coded or numeric field added to
the hash) fails the test until its printed form is added below — and printed.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import pytest
from django import forms as django_forms
from django.db import models
from django.utils import timezone
from pypdf import PdfReader

from crisisnotes.accounts.models import User
from safety import forms as safety_forms
from safety.cssrs import ITEMS
from safety.models import (
    Disclosure,
    RiskFormulation,
    SafetyPlanVersion,
    SafetyScreen,
    SupervisorNotification,
)
from sessions import hashing
from sessions.forms import notes as note_forms
from sessions.models import CrisisSession, FollowUpTask, QuickNote
from sessions.models.clients import ResourceCategory
from sessions.models.followups import FollowUpOutcome
from sessions.models.notes import ContactType, Modality, PersonPresent, ReasonCode, RiskLevel
from sessions.registry import sections
from sessions.services.exports import record_pdf
from tests.factories import NoteFactory

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

pytestmark = pytest.mark.django_db


class Markers:
    """Unique, short, whitespace-free markers: they survive pypdf's line breaking (compared with
    whitespace removed) and fit the shortest CharField (20)."""

    def __init__(self) -> None:
        self.made: dict[str, str] = {}

    def __call__(self, where: str) -> str:
        marker = f"Mk{len(self.made):03d}q"
        self.made[marker] = where
        return marker


def _fill_row(row: models.Model, mark: Markers) -> None:
    """Every free-text field gets a marker; every coded text field its last choice; every flag
    True. JSON and number fields are the test's explicit choices below."""
    for field in row._meta.concrete_fields:
        if field.primary_key or field.is_relation or isinstance(field, models.DateTimeField):
            continue
        if isinstance(field, (models.CharField, models.TextField)):
            if field.choices:
                value: Any = [c for c, _ in field.flatchoices if c][-1]
            else:
                value = mark(f"{type(row).__name__}.{field.name}")
            setattr(row, field.name, value)
        elif isinstance(field, models.BooleanField):
            setattr(row, field.name, True)
    row.save()


def _first_code(form_class: type[django_forms.BaseForm], name: str) -> str:
    field = form_class.base_fields[name]
    choices = field.choices
    return next(code for code, _ in _flat_choices(choices) if code)


def _flat_choices(choices: Any) -> Iterator[tuple[str, str]]:
    for code, label in choices:
        if isinstance(label, (list, tuple)):
            yield from _flat_choices(label)
        else:
            yield code, str(label)


def _label(form_class: type[django_forms.BaseForm], name: str, code: str) -> str:
    return dict(_flat_choices(form_class.base_fields[name].choices))[code]


def _capture_payload(note: CrisisSession, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Any]:
    """Run the real hash code and capture the payload it serialises."""
    captured: list[Any] = []
    real_dumps = json.dumps

    def spy(obj: Any, *args: Any, **kwargs: Any) -> str:
        if isinstance(obj, dict) and {"header", "sections"} <= set(obj):
            captured.append(obj)
        return real_dumps(obj, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(json, "dumps", spy)
        digest = hashing.note_content_hash(note)
    assert len(captured) == 1, "the content hash no longer serialises one payload with json.dumps"
    return digest, captured[0]


def _leaves(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, Any]]:
    """(dotted path without list indices, value) of every scalar in the payload."""
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _leaves(child, (*path, str(key)))
    elif isinstance(value, list):
        for child in value:
            yield from _leaves(child, path)
    else:
        yield ".".join(path), value


def _flat(text: Any) -> str:
    # str(): labels are lazy translations (gettext_lazy), rendered in the active language.
    return re.sub(r"\s+", "", str(text))


def _when(value: str) -> str:
    return timezone.localtime(timezone.datetime.fromisoformat(value)).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def full_note(counselor: User, supervisor: User) -> tuple[CrisisSession, Markers]:
    """A draft with every hashed row filled, then signed the way note_sign stores it."""
    mark = Markers()
    note = NoteFactory.create(author=counselor, modality=Modality.PHONE)
    for section in sections():
        rows: list[models.Model] = []
        if section.key == "safety":
            rows = list(section.rows(note))
        elif section.related_name:
            rows = [section.row(note)]
        for row in rows:
            _fill_row(row, mark)

    note.refresh_from_db()
    screen: SafetyScreen = note.safety_screen
    screen.version = "recent"
    screen.save()
    formulation: RiskFormulation = note.risk_formulation
    form_f = safety_forms.FormulationForm
    formulation.risk_factors = [_first_code(form_f, "risk_factors")]
    formulation.protective_factors = [_first_code(form_f, "protective_factors")]
    formulation.save()
    means = note.means_safety
    means.agitation = 7  # phone: a 0–10 rating, printed as the number
    means.save()

    exploration = note.exploration
    exploration.suds_start, exploration.suds_end = 9, 4
    exploration.affect = [_first_code(note_forms.ExplorationForm, "affect")]
    exploration.deescalation = [_first_code(note_forms.ExplorationForm, "deescalation")]
    exploration.save()
    rapport = note.rapport
    rapport.resources_given = [
        {"category": ResourceCategory.SHELTER, "name": mark("resource.name"), "contact": mark("c")}
    ]
    rapport.save()
    problem = note.problem_solving
    problem.cognitive_errors = [_first_code(note_forms.ProblemSolvingForm, "cognitive_errors")]
    problem.modality_used = [_first_code(note_forms.ProblemSolvingForm, "modality_used")]
    problem.save()
    follow_up = note.follow_up
    follow_up.referrals = [
        {"to": mark("referral.to"), "urgency": "urgent", "made": True, "accepted": True}
    ]
    follow_up.save()

    started = timezone.now() - timedelta(hours=3)
    FollowUpTask.objects.create(
        clinic=note.clinic,
        session=note,
        client=note.client,
        assigned_to=supervisor,
        due_at=started + timedelta(days=1, minutes=17),
        method="call",
        purpose=mark("task.purpose"),
    )
    SupervisorNotification.objects.create(
        session=note,
        supervisor=supervisor,
        supervisor_name=mark("notification.supervisor_name"),
        notified_at=started + timedelta(minutes=11),
        method="phone",
        response=mark("notification.response"),
        responded_at=started + timedelta(minutes=23),
        created_by=note.author,
    )
    disclosure = Disclosure.objects.create(
        clinic=note.clinic,
        client=note.client,
        session=note,
        type="duty_to_warn",
        legal_basis="x",
        recipient="x",
        disclosed_at=started + timedelta(minutes=31),
        information_disclosed="x",
        purpose="x",
        created_by=note.author,
    )
    _fill_row(disclosure, mark)
    plan = SafetyPlanVersion.objects.create(
        clinic=note.clinic, client=note.client, number=1, session=note, created_by=note.author
    )
    for _ in range(2):
        QuickNote.objects.create(session=note, text=mark("quick_note"))

    answered = FollowUpTask.objects.create(
        clinic=note.clinic,
        session=NoteFactory.create(author=counselor, modality=Modality.PHONE),
        client=note.client,
        assigned_to=counselor,
        due_at=started - timedelta(days=1),
        method="visit",
    )
    CrisisSession.objects.filter(pk=note.pk).update(
        started_at=started,
        ended_at=started + timedelta(minutes=47),
        confidentiality_explained=True,
        screen_risk=RiskLevel.HIGH,
        clinician_risk=RiskLevel.MODERATE,
        imminent=True,
        # A third-party call; what a hang-up and a follow-up contact document was typed before
        # the type changed, and is signed (and printed) all the same.
        contact_type=ContactType.THIRD_PARTY,
        contact_summary=mark("contact_summary"),
        intent_stated=True,
        after_disconnect=mark("after_disconnect"),
        caller_relationship=mark("caller_relationship"),
        caller_name=mark("caller_name"),
        caller_contact=mark("caller_contact"),
        person_present=PersonPresent.choices[0][0],
        caller_advice=mark("caller_advice"),
        answers_task=answered,
        followup_outcome=FollowUpOutcome.REACHED_SAFE,
    )
    note = CrisisSession.objects.get(pk=note.pk)
    assert plan.pk
    return note, mark


def _printed_forms(note: CrisisSession) -> dict[str, Callable[[Any], StrOrPromise]]:
    """How a leaf that is not a marker appears in print, by its path in the payload."""
    ef, pf, ff = note_forms.ExplorationForm, note_forms.ProblemSolvingForm, note_forms.FollowUpForm
    sf = safety_forms
    items = {item.key: item for item in ITEMS}

    def screen_item(key: str) -> Callable[[Any], StrOrPromise]:
        question = f"{items[key].number}. {items[key].text}"
        if key == "q6":  # the screener's examples stand between item 6 and its answer
            return lambda v: question
        return lambda v: question + ("Yes" if v else "No")

    forms_: dict[str, Callable[[Any], StrOrPromise]] = {
        "header.id": lambda v: f"Session record #{v}",
        "header.clinic_id": lambda v: note.clinic.name,
        "header.client_id": lambda v: f"Client record #{v}",
        "header.author_id": lambda v: f"Counselor {note.author.display_name}",
        "header.modality": lambda v: Modality(v).label,
        "header.started_at": _when,
        "header.ended_at": _when,
        "header.confidentiality_explained": lambda v: "Limits of confidentiality explainedYes",
        "header.screen_risk": lambda v: f"Screen risk: {RiskLevel(v).label}",
        "header.clinician_risk": lambda v: f"Risk level {RiskLevel(v).label}",
        "header.imminent": lambda v: "(imminent)",
        "header.contact_type": lambda v: "Contact type" + ContactType(v).label,
        "header.intent_stated": lambda v: (
            "stated or danger heard before the call ended (recorded earlier)Yes"
        ),
        "header.person_present": lambda v: PersonPresent(v).label,
        "header.answers_task_id": lambda v: str(FollowUpTask.objects.get(pk=v)),
        "header.followup_outcome": lambda v: FollowUpOutcome(v).label,
        "sections.safety.formulation.plan_not_done_reason": lambda v: (
            "No safety plan because: " + ReasonCode(v).label
        ),
        "sections.safety.formulation.supervisor_not_done_reason": lambda v: (
            "No supervisor response because: " + ReasonCode(v).label
        ),
        "sections.follow_up.task_not_done_reason": lambda v: ReasonCode(v).label,
        "sections.safety.screen.version": lambda v: (
            "C-SSRS screen — " + str(dict(SafetyScreen._meta.get_field("version").flatchoices)[v])
        ),
        **{f"sections.safety.screen.{key}": screen_item(key) for key in items},
        "sections.safety.screen.not_done_reason": lambda v: (
            "Could not be completed: "
            + str(SafetyScreen(not_done_reason=v).get_not_done_reason_display())
        ),
        "sections.safety.screen.risk": lambda v: f"Screen risk: {RiskLevel(v).label}",
        "sections.safety.formulation.risk_factors": lambda v: dict(sf.flat(sf.RISK_FACTORS))[v],
        "sections.safety.formulation.protective_factors": lambda v: dict(
            sf.flat(sf.PROTECTIVE_FACTORS)
        )[v],
        "sections.safety.formulation.homicidal_ideation": lambda v: (
            "Homicidal ideation"
            + str(RiskFormulation(homicidal_ideation=v).get_homicidal_ideation_display())
            + "; identifiable target"
        ),
        "sections.safety.formulation.identifiable_target": lambda v: "; identifiable target:",
        "sections.safety.formulation.clinician_level": lambda v: (
            "Clinician risk level" + RiskLevel(v).label + " — imminent"
        ),
        "sections.safety.formulation.imminent": lambda v: " — imminent",
        "sections.safety.formulation.abuse_disclosed": lambda v: "Abuse disclosedYes",
        "sections.safety.means.agitation": lambda v: f"Agitation, clinician rating 0–10{v}",
        "sections.safety.means.intoxication": lambda v: (
            "Intoxication" + str(note.means_safety.get_intoxication_display())
        ),
        "sections.safety.means.firearms": lambda v: (
            "Access to firearms" + str(note.means_safety.get_firearms_display())
        ),
        "sections.safety.means.medications": lambda v: (
            "Access to lethal medications" + str(note.means_safety.get_medications_display())
        ),
        "sections.safety.means.other_means": lambda v: (
            "Access to other means" + str(note.means_safety.get_other_means_display())
        ),
        "sections.safety.means.means_not_done_reason": lambda v: (
            "Not completed: " + str(note.means_safety.get_means_not_done_reason_display())
        ),
        "sections.safety.supervisor_notifications.supervisor_id": lambda v: (
            SupervisorNotification.objects.get(supervisor_id=v).supervisor_name
        ),
        "sections.safety.supervisor_notifications.notified_at": _when,
        "sections.safety.supervisor_notifications.method": lambda v: "phone:",
        "sections.safety.supervisor_notifications.responded_at": _when,
        "sections.safety.disclosures": lambda v: Disclosure.objects.get(pk=v).recipient,
        "sections.safety.safety_plan_version": lambda v: (
            f"Version {SafetyPlanVersion.objects.get(pk=v).number} of"
        ),
        "sections.exploration.suds_start": lambda v: f"{ef.base_fields['suds_start'].label}{v}",
        "sections.exploration.suds_end": lambda v: f"SUDS at end{v}",
        "sections.exploration.affect": lambda v: _label(ef, "affect", v),
        "sections.exploration.deescalation": lambda v: _label(ef, "deescalation", v),
        "sections.rapport.resources_given.category": lambda v: ResourceCategory(v).label + ":",
        "sections.problem_solving.cognitive_errors": lambda v: _label(pf, "cognitive_errors", v),
        "sections.problem_solving.modality_used": lambda v: _label(pf, "modality_used", v),
        "sections.follow_up.crisis_numbers_given": lambda v: (
            str(ff.base_fields["crisis_numbers_given"].label) + "Yes"
        ),
        "sections.follow_up.disposition": lambda v: str(note.follow_up.get_disposition_display()),
        "sections.follow_up.referrals.urgency": lambda v: f"({v})",
        "sections.follow_up.referrals.made": lambda v: ", made",
        "sections.follow_up.referrals.accepted": lambda v: ", accepted",
        "sections.follow_up.tasks.due_at": lambda v: "due " + _when(v),
        "sections.follow_up.tasks.method": lambda v: (
            FollowUpTask(method=v).get_method_display() + " due"
        ),
        "sections.follow_up.tasks.assigned_to": lambda v: (
            " — " + User.objects.get(pk=v).display_name
        ),
        "quick_notes.created_at": lambda v: timezone.localtime(
            timezone.datetime.fromisoformat(v)
        ).strftime("%Y-%m-%d %H:%M:%S"),
    }
    return forms_


def test_every_hashed_field_is_printed(full_note, clinic_admin, monkeypatch):
    note, mark = full_note
    digest, payload = _capture_payload(note, monkeypatch)
    CrisisSession.objects.filter(pk=note.pk).update(
        status="signed",
        signed_by=note.author,
        signed_at=timezone.now(),
        signer_name=note.author.display_name,
        content_hash=digest,
    )
    note = CrisisSession.objects.get(pk=note.pk)
    text = "\n".join(
        page.extract_text()
        for page in PdfReader(io.BytesIO(record_pdf(note=note, generated_by=clinic_admin))).pages
    )
    flat = _flat(text)
    printed = _printed_forms(note)

    leaves = list(_leaves(payload))
    missing: list[str] = []
    unknown: list[str] = []
    markers_in_hash: set[str] = set()
    for path, value in leaves:
        if isinstance(value, str) and value in mark.made:
            markers_in_hash.add(value)
            if value not in flat:
                missing.append(f"{path} = {value!r}")
        elif path in printed:
            expected = printed[path](value)
            if _flat(expected) not in flat:
                missing.append(f"{path} = {value!r} (printed as {expected!r})")
        else:
            unknown.append(f"{path} = {value!r}")
    assert not unknown, (
        "hashed fields the test cannot find in print (an empty field the filler missed, or a "
        f"new coded field: print it and add its printed form): {unknown}"
    )
    assert not missing, f"hashed fields not printed in the PDF: {missing}"
    # Every section, the header and the quick notes were really covered.
    paths = {path for path, _ in leaves}
    for section in sections():
        assert any(p.startswith(f"sections.{section.key}.") for p in paths), section.key
    assert {"quick_notes.text", "quick_notes.created_at"} <= paths
    assert markers_in_hash, "no marker reached the hash"


def test_a_hashed_text_that_is_not_printed_fails_the_check(full_note, clinic_admin, monkeypatch):
    """The check can fail: quick notes left out of the PDF (as before) are reported."""
    note, _mark = full_note
    _, payload = _capture_payload(note, monkeypatch)
    CrisisSession.objects.filter(pk=note.pk).update(status="signed", signed_at=timezone.now())
    note = CrisisSession.objects.get(pk=note.pk)
    from sessions.services.exports import record as export_record

    real = export_record.record_context

    def without_quick_notes(**kwargs: Any) -> dict[str, Any]:
        return {**real(**kwargs), "quick_notes": []}

    monkeypatch.setattr(export_record, "record_context", without_quick_notes)
    pdf = record_pdf(note=note, generated_by=clinic_admin)
    flat = _flat("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    quick = [v for path, v in _leaves(payload) if path == "quick_notes.text"]
    assert quick and all(v not in flat for v in quick)
