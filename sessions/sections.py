"""The four stages this app owns, registered as note sections (see registry.py), plus the
always-on sign rules (CLINICAL.md §9.1 — the parts not about safety) and the trainee co-sign
reason (§9.10). The safety app registers the Safety section and rules 2–9 itself."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms as django_forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sessions import registry
from sessions.contact_types import Requirement as R
from sessions.contact_types import requires
from sessions.forms import notes as note_forms
from sessions.models import (
    CommunityResource,
    CrisisSession,
    ExplorationStage,
    FollowUpStage,
    ProblemSolvingStage,
    RapportStage,
)
from sessions.models.notes import ContactType, Disposition
from sessions.registry import Completion, NoteSection, SignProblem

HEADER = "header"


def header_field_id(field: str) -> str:
    return f"id_{HEADER}-{field}"


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


class RapportSection(StageSection):
    key = "rapport"
    title = gettext_lazy("Rapport")
    order = 30
    model = RapportStage
    form_class = note_forms.RapportForm
    required_fields = ("engagement_notes", "validation_notes")
    related_name = "rapport"

    def get_forms(self, *, note: CrisisSession, data: Any = None) -> list[django_forms.BaseForm]:
        resources = list(CommunityResource.objects.filter(clinic_id=note.clinic_id, active=True))
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
            for task in note.followup_tasks.order_by("id")
        ]
        return content


for _section in (
    ExplorationSection(),
    RapportSection(),
    ProblemSolvingSection(),
    FollowUpSection(),
):
    registry.register_section(_section)


# --- sign rules (CLINICAL.md §9.1, the parts not about safety) ---------------------------------


def _problem(message: str, section: str, field_id: str, code: str) -> SignProblem:
    return SignProblem(message=message, section=section, field_id=field_id, code=code)


@registry.register_sign_rule
def header_complete(note: CrisisSession) -> Iterable[SignProblem]:
    """Every contact type: start and end time, modality. Limits of confidentiality only where
    the counselor spoke with the client or the caller (CLINICAL.md §11)."""
    if not note.started_at:
        yield _problem(
            _("Enter the start time."), HEADER, header_field_id("started_at"), "started_at"
        )
    if not note.ended_at:
        yield _problem(
            _("Enter the end time (or press “End session”)."),
            HEADER,
            header_field_id("ended_at"),
            "ended_at",
        )
    if not note.modality:
        yield _problem(_("Choose the modality."), HEADER, header_field_id("modality_0"), "modality")
    if requires(note, R.CONFIDENTIALITY) and not note.confidentiality_explained:
        yield _problem(
            _("Confirm the limits of confidentiality were explained."),
            HEADER,
            header_field_id("confidentiality_explained"),
            "confidentiality_explained",
        )


@registry.register_sign_rule
def contact_documented(note: CrisisSession) -> Iterable[SignProblem]:
    """What each contact type documents about itself (CLINICAL.md §11)."""
    if requires(note, R.SUMMARY) and not note.contact_summary.strip():
        messages: dict[str, str] = {
            ContactType.DISCONNECTED: _("Hang-up: say what happened before the call ended."),
            ContactType.SILENT: _(
                "Silent call: say what you did (invited to speak, gave crisis "
                "numbers) and anything suggesting danger."
            ),
        }
        message = messages.get(
            note.contact_type, _("Wrong number or non-crisis call: write one line about it.")
        )
        yield _problem(message, HEADER, header_field_id("contact_summary"), "contact_summary")
    if requires(note, R.AFTER_DISCONNECT) and not note.after_disconnect.strip():
        yield _problem(
            _(
                "The call ended: record what you did after it (call-back attempts with times; "
                "emergency dispatch or not, with the rationale)."
            ),
            HEADER,
            header_field_id("after_disconnect"),
            "after_disconnect",
        )
    if requires(note, R.CALLER):
        if not note.caller_relationship.strip():
            yield _problem(
                _("Third-party call: record the caller's relationship to the person at risk."),
                HEADER,
                header_field_id("caller_relationship"),
                "caller_relationship",
            )
        if not note.person_present:
            yield _problem(
                _("Third-party call: say whether the person at risk is with the caller."),
                HEADER,
                header_field_id("person_present"),
                "person_present",
            )
        if not note.caller_advice.strip():
            yield _problem(
                _("Third-party call: record what the caller was advised."),
                HEADER,
                header_field_id("caller_advice"),
                "caller_advice",
            )
    if requires(note, R.ANSWERED_TASK):
        if not note.answers_task_id:
            yield _problem(
                _("Follow-up contact: choose the follow-up task it answers."),
                HEADER,
                header_field_id("answers_task"),
                "answers_task",
            )
        if not note.followup_outcome:
            yield _problem(
                _("Follow-up contact: record the outcome."),
                HEADER,
                header_field_id("followup_outcome"),
                "followup_outcome",
            )


@registry.register_sign_rule
def exploration_complete(note: CrisisSession) -> Iterable[SignProblem]:
    if not requires(note, R.EXPLORATION):
        return
    section = registry.section("exploration")
    row: ExplorationStage = section.row(note)
    if not row.precipitating_event.strip():
        yield _problem(
            _("Describe the precipitating event."),
            section.key,
            section.field_id("precipitating_event"),
            "precipitating_event",
        )
    if not row.suds_not_obtained_reason.strip():
        if row.suds_start is None:
            yield _problem(
                _("Rate SUDS at start, or give the reason it was not obtained."),
                section.key,
                section.field_id("suds_start"),
                "suds_start",
            )
        if row.suds_end is None:
            yield _problem(
                _("Rate SUDS at end, or give the reason it was not obtained."),
                section.key,
                section.field_id("suds_end"),
                "suds_end",
            )


@registry.register_sign_rule
def interventions_recorded(note: CrisisSession) -> Iterable[SignProblem]:
    if not requires(note, R.INTERVENTIONS):
        return
    section = registry.section("problem_solving")
    if not section.row(note).interventions.strip():
        yield _problem(
            _("Record the interventions used."),
            section.key,
            section.field_id("interventions"),
            "interventions",
        )


@registry.register_sign_rule
def follow_up_complete(note: CrisisSession) -> Iterable[SignProblem]:
    section = registry.section("follow_up")
    row: FollowUpStage = section.row(note)
    if requires(note, R.DISPOSITION):
        if not row.disposition:
            yield _problem(
                _("Choose the disposition."),
                section.key,
                section.field_id("disposition_0"),
                "disposition",
            )
        elif row.disposition == Disposition.OTHER and not row.disposition_other.strip():
            yield _problem(
                _("Describe the “other” disposition."),
                section.key,
                section.field_id("disposition_other"),
                "disposition_other",
            )
        if not row.followup_plan.strip():
            yield _problem(
                _("Write the follow-up plan."),
                section.key,
                section.field_id("followup_plan"),
                "followup_plan",
            )
    if requires(note, R.CRISIS_NUMBERS) and not row.crisis_numbers_given:
        yield _problem(
            _("Confirm crisis numbers were given."),
            section.key,
            section.field_id("crisis_numbers_given"),
            "crisis_numbers_given",
        )


@registry.register_cosign_reason
def author_is_trainee(note: CrisisSession) -> str | None:
    return "Author is a trainee" if note.author.is_trainee else None
