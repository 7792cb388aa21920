"""The four stages this app owns, registered as note sections (see registry.py), each with its
sign rules (CLINICAL.md §9.1 — the parts not about safety). The header's rules and this app's
co-sign reasons are plain code in sign_rules.py; the safety app registers the Safety section with
rules 2–9 itself."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms as django_forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crisisnotes.prepared import PreparedRead, Statement
from sessions import registry
from sessions.contact_types import Requirement as R
from sessions.contact_types import requires
from sessions.forms import notes as note_forms
from sessions.models import (
    CommunityResource,
    CrisisSession,
    ExplorationStage,
    FollowUpStage,
    FollowUpTask,
    ProblemSolvingStage,
    RapportStage,
)
from sessions.models.notes import Disposition
from sessions.registry import Completion, NoteSection, SignProblem
from sessions.selectors.resources import resources_offered, resources_offered_ahead

HEADER = "header"


def header_field_id(field: str) -> str:
    return f"id_{HEADER}-{field}"


def _problem(message: str, section: str, field_id: str, code: str) -> SignProblem:
    return SignProblem(message=message, section=section, field_id=field_id, code=code)


def _display(form_class: type[django_forms.ModelForm], row: Any, name: str) -> str:
    """A field's value as the read-only note and the PDF print it (labels for codes)."""
    value = getattr(row, name)
    declared = form_class.base_fields.get(name)
    if isinstance(value, list):
        if declared is not None and isinstance(declared, django_forms.MultipleChoiceField):
            return note_forms.choice_labels(list(declared.choices), value)  # type: ignore[arg-type]
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if value is None:
        return ""
    display = getattr(row, f"get_{name}_display", None)
    return str(display()) if display else str(value)


class StageSection(NoteSection):
    """A stage stored in one row; shared templates render any of them."""

    template_name = "sessions/partials/section_form.html"
    readonly_template_name = "sessions/partials/section_readonly.html"

    def label(self, name: str) -> str:
        assert self.form_class is not None
        declared = self.form_class.base_fields.get(name)
        if declared is not None and declared.label:
            return str(declared.label)
        assert self.model is not None
        return str(getattr(self.model._meta.get_field(name), "verbose_name", name)).capitalize()

    def readonly_items(self, *, note: CrisisSession) -> list[tuple[str, str]]:
        assert self.form_class is not None
        row = self.row(note)
        return [
            (self.label(name), self.display(row, name))
            for name in self.form_class._meta.fields or ()
        ]

    def display(self, row: Any, name: str) -> str:
        assert self.form_class is not None
        return _display(self.form_class, row, name)

    def readonly_context(self, *, note: CrisisSession) -> dict[str, Any]:
        return {"row": self.row(note), "items": self.readonly_items(note=note)}

    def completion(self, *, note: CrisisSession) -> Completion:
        filled = [self.required_filled(note, name) for name in self.required_fields]
        if not any(filled):
            return Completion.EMPTY
        return Completion.COMPLETE if all(filled) else Completion.IN_PROGRESS

    def required_filled(self, note: CrisisSession, name: str) -> bool:
        value = getattr(self.row(note), name)
        if isinstance(value, int) and not isinstance(value, bool):
            return True  # 0 is a real answer (SUDS 0 = calm), not an empty field
        return value not in (None, "", [], {}, False)


class ExplorationSection(StageSection):
    key = "exploration"
    title = gettext_lazy("Exploration & de-escalation")
    order = 20
    model = ExplorationStage
    form_class = note_forms.ExplorationForm
    required_fields = ("precipitating_event", "suds_start", "suds_end")
    related_name = "exploration"

    def required_filled(self, note: CrisisSession, name: str) -> bool:
        row = self.row(note)
        if name in ("suds_start", "suds_end") and row.suds_not_obtained_reason.strip():
            return True
        return super().required_filled(note, name)

    def sign_problems(self, note: CrisisSession) -> Iterable[SignProblem]:
        if not requires(note, R.EXPLORATION):
            return
        row: ExplorationStage = self.row(note)
        if not row.precipitating_event.strip():
            yield _problem(
                _("Describe the precipitating event."),
                self.key,
                self.field_id("precipitating_event"),
                "precipitating_event",
            )
        if not row.suds_not_obtained_reason.strip():
            if row.suds_start is None:
                yield _problem(
                    _("Rate SUDS at start, or give the reason it was not obtained."),
                    self.key,
                    self.field_id("suds_start"),
                    "suds_start",
                )
            if row.suds_end is None:
                yield _problem(
                    _("Rate SUDS at end, or give the reason it was not obtained."),
                    self.key,
                    self.field_id("suds_end"),
                    "suds_end",
                )


class RapportSection(StageSection):
    key = "rapport"
    title = gettext_lazy("Rapport")
    order = 30
    model = RapportStage
    form_class = note_forms.RapportForm
    required_fields = ("engagement_notes", "validation_notes")
    related_name = "rapport"

    def edit_reads(self, *, note: CrisisSession) -> list[Statement]:
        return [resources_offered_ahead(clinic_id=note.clinic_id)]

    def get_forms(self, *, note: CrisisSession, data: Any = None) -> list[django_forms.BaseForm]:
        resources = resources_offered(clinic_id=note.clinic_id)
        return [
            note_forms.RapportForm(
                data=data, instance=self.row(note), prefix=self.key, resources=resources
            )
        ]

    def display(self, row: Any, name: str) -> str:
        if name == "resources_given":
            # The snapshot's category is part of the signed content: printed as the page's
            # picker reads it ("Shelter: Harbour House (555-0100)").
            return "; ".join(
                note_forms.resource_label(
                    CommunityResource(
                        category=r.get("category", ""),
                        name=r.get("name", ""),
                        contact=r.get("contact", ""),
                    )
                )
                for r in row.resources_given or []
            )
        return super().display(row, name)


class ProblemSolvingSection(StageSection):
    key = "problem_solving"
    title = gettext_lazy("Problem-solving")
    order = 40
    model = ProblemSolvingStage
    form_class = note_forms.ProblemSolvingForm
    required_fields = ("interventions", "action_plan")
    related_name = "problem_solving"

    def sign_problems(self, note: CrisisSession) -> Iterable[SignProblem]:
        if not requires(note, R.INTERVENTIONS):
            return
        if not self.row(note).interventions.strip():
            yield _problem(
                _("Record the interventions used."),
                self.key,
                self.field_id("interventions"),
                "interventions",
            )


# The follow-up tasks as the content hash reads them (FollowUpSection.content).
_PLANNED_TASKS = PreparedRead(
    lambda *, note_id: FollowUpTask.objects.filter(session_id=note_id).order_by("id"),
    ids=("note_id",),
)


class FollowUpSection(StageSection):
    key = "follow_up"
    title = gettext_lazy("Follow-up")
    order = 50
    model = FollowUpStage
    form_class = note_forms.FollowUpForm
    template_name = "sessions/partials/section_follow_up.html"
    required_fields = ("followup_plan", "disposition", "crisis_numbers_given")
    related_name = "follow_up"

    def readonly_items(self, *, note: CrisisSession) -> list[tuple[str, str]]:
        items = super().readonly_items(note=note)
        referrals = self.row(note).referrals or []
        text = "; ".join(
            f"{r.get('to', '')}"
            + (f" ({r['urgency']})" if r.get("urgency") else "")
            + (_(", made") if r.get("made") else "")
            + (_(", accepted") if r.get("accepted") else "")
            for r in referrals
        )
        return [*items[:2], (_("Referrals"), text), *items[2:]]

    def content(self, *, note: CrisisSession) -> dict[str, Any]:
        row = self.row(note)
        content = super().content(note=note)
        content["referrals"] = row.referrals
        # The plan as it stood at signing (D's follow-up tasks keep changing afterwards: attempts,
        # outcome, closing — those are not part of the signed record).
        content["tasks"] = [
            {
                "due_at": task.due_at.isoformat(),
                "method": task.method,
                "assigned_to": task.assigned_to_id,
                "purpose": task.purpose,
            }
            for task in _PLANNED_TASKS(note_id=note.pk)
        ]
        return content

    def content_reads(self, *, note: CrisisSession) -> list[Statement]:
        return [_PLANNED_TASKS.statement(note_id=note.pk)]

    def sign_problems(self, note: CrisisSession) -> Iterable[SignProblem]:
        row: FollowUpStage = self.row(note)
        if requires(note, R.DISPOSITION):
            if not row.disposition:
                yield _problem(
                    _("Choose the disposition."),
                    self.key,
                    self.field_id("disposition_0"),
                    "disposition",
                )
            elif row.disposition == Disposition.OTHER and not row.disposition_other.strip():
                yield _problem(
                    _("Describe the “other” disposition."),
                    self.key,
                    self.field_id("disposition_other"),
                    "disposition_other",
                )
            if not row.followup_plan.strip():
                yield _problem(
                    _("Write the follow-up plan."),
                    self.key,
                    self.field_id("followup_plan"),
                    "followup_plan",
                )
        if requires(note, R.CRISIS_NUMBERS) and not row.crisis_numbers_given:
            yield _problem(
                _("Confirm crisis numbers were given."),
                self.key,
                self.field_id("crisis_numbers_given"),
                "crisis_numbers_given",
            )


for _section in (
    ExplorationSection(),
    RapportSection(),
    ProblemSolvingSection(),
    FollowUpSection(),
):
    registry.register_section(_section)
