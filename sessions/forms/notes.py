"""Forms of the note: the header, the four stages this app owns, quick notes and addenda.

Coded answers (CLINICAL.md §3–§6) are checkboxes and radios, stored as lists of codes; labels
are looked up from the choices below when the note is shown read-only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crisisnotes.forms import short_choice_list
from crisisnotes.validators import QUICK_NOTE, CleanTextFormMixin, validate_not_future_time
from sessions.forms.field_copies import class_choices, fast_field_copies
from sessions.models import (
    Addendum,
    CommunityResource,
    CrisisSession,
    ExplorationStage,
    FollowUpStage,
    ProblemSolvingStage,
    RapportStage,
)
from sessions.models.followups import FollowUpOutcome
from sessions.models.notes import (
    CONTACT_DETAIL_FIELDS,
    AddendumKind,
    ContactType,
    Disposition,
    Modality,
    PersonPresent,
    ReasonCode,
)
from sessions.selectors.followups import (
    followup_answerable_for_note,
    followup_answerable_rows,
)

DATETIME_LOCAL = "%Y-%m-%dT%H:%M"

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

    # (code, label) pairs; the labels are translated lazily, in the language of the request.
    Choices = Sequence[tuple[str, StrOrPromise]]

AFFECT_CHOICES = [
    ("calm", gettext_lazy("Calm")),
    ("anxious", gettext_lazy("Anxious")),
    ("sad", gettext_lazy("Sad / tearful")),
    ("angry", gettext_lazy("Angry / irritable")),
    ("flat", gettext_lazy("Flat")),
    ("agitated", gettext_lazy("Agitated")),
    ("hopeless", gettext_lazy("Hopeless")),
    ("other", gettext_lazy("Other")),
]
DEESCALATION_CHOICES = [
    ("active_listening", gettext_lazy("Active listening")),
    ("grounding", gettext_lazy("Grounding")),
    ("breathing", gettext_lazy("Paced breathing")),
    ("validation", gettext_lazy("Validation of feelings")),
    ("reduce_stimulation", gettext_lazy("Reducing stimulation")),
    ("time_out", gettext_lazy("Time-out / pause")),
    ("other", gettext_lazy("Other")),
]
COGNITIVE_ERROR_CHOICES = [
    ("catastrophising", gettext_lazy("Catastrophising")),
    ("all_or_nothing", gettext_lazy("All-or-nothing")),
    ("mind_reading", gettext_lazy("Mind reading")),
    ("overgeneralisation", gettext_lazy("Overgeneralisation")),
    ("personalisation", gettext_lazy("Personalisation")),
    ("other", gettext_lazy("Other")),
]
MODALITY_USED_CHOICES = [
    ("supportive", gettext_lazy("Supportive")),
    ("cbt", gettext_lazy("CBT")),
    ("dbt_skills", gettext_lazy("DBT skills")),
    ("other", gettext_lazy("Other")),
]
REFERRAL_URGENCY_CHOICES = [
    ("", "—"),
    ("routine", gettext_lazy("Routine")),
    ("urgent", gettext_lazy("Urgent")),
    ("emergency", gettext_lazy("Emergency")),
]
REFERRAL_ROWS = 3

SUDS_CHOICES = [("", "—")] + [(str(i), str(i)) for i in range(11)]


# One key per contact type on the note page (static/js/note.js reads them from data-key).
CONTACT_TYPE_KEYS = {
    ContactType.FULL: "F",
    ContactType.DISCONNECTED: "D",
    ContactType.SILENT: "S",
    ContactType.WRONG_NUMBER: "W",
    ContactType.THIRD_PARTY: "T",
    ContactType.FOLLOW_UP: "U",
}
REASON_CHOICES: Choices = [("", "—"), *ReasonCode.choices]


def require_reason_text(form: forms.BaseForm, code_field: str, text_field: str) -> None:
    """A coded reason "other" says what the reason was (CLINICAL.md §9.5)."""
    data = form.cleaned_data
    if data.get(code_field) == ReasonCode.OTHER and not (data.get(text_field) or "").strip():
        form.add_error(text_field, _("Reason “other”: say what it was."))


def _text(rows: int = 2) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def _codes(choices: Choices, label: StrOrPromise) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=choices, widget=forms.CheckboxSelectMultiple, required=False, label=label
    )


@fast_field_copies
class NoteHeaderForm(CleanTextFormMixin, forms.ModelForm):
    class Meta:
        model = CrisisSession
        fields = [
            "contact_type",
            "modality",
            "started_at",
            "ended_at",
            "confidentiality_explained",
            *CONTACT_DETAIL_FIELDS,
        ]
        widgets = {
            "contact_type": forms.RadioSelect,
            "contact_summary": _text(),
            "after_disconnect": _text(),
            "caller_advice": _text(),
            "modality": forms.RadioSelect,
            "started_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format=DATETIME_LOCAL
            ),
            "ended_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format=DATETIME_LOCAL
            ),
        }
        labels = {
            "contact_type": gettext_lazy("Contact type"),
            "modality": gettext_lazy("Modality"),
            "started_at": gettext_lazy("Started"),
            "ended_at": gettext_lazy("Ended"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The task a follow-up contact answers: this client's tasks (open ones, and the one
        # already chosen even if it has been closed since).
        task_field = self.fields["answers_task"]
        assert isinstance(task_field, forms.ModelChoiceField)
        note = self.instance
        ids = {"client_id": note.client_id, "task_id": note.answers_task_id}
        task_field.empty_label = "—"
        short_choice_list(
            task_field,
            followup_answerable_for_note(**ids),
            rows=lambda: followup_answerable_rows(**ids),
        )
        for name in ("started_at", "ended_at"):
            field = self.fields[name]
            assert isinstance(field, forms.DateTimeField)
            field.input_formats = [DATETIME_LOCAL, "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        started, ended = data.get("started_at"), data.get("ended_at")
        for name, what in (("started_at", _("The start time")), ("ended_at", _("The end time"))):
            try:
                validate_not_future_time(data.get(name), what)
            except forms.ValidationError as error:
                self.add_error(name, error)
        if started and ended and ended < started:
            self.add_error("ended_at", _("The session cannot end before it started."))
        return data


# Radios without the "---------" blank Django adds to model choice fields; selects with "—".
class_choices(NoteHeaderForm, "modality", Modality.choices)
class_choices(NoteHeaderForm, "contact_type", ContactType.choices)
class_choices(NoteHeaderForm, "person_present", [("", "—"), *PersonPresent.choices])
class_choices(NoteHeaderForm, "followup_outcome", [("", "—"), *FollowUpOutcome.choices])


@fast_field_copies
class ExplorationForm(CleanTextFormMixin, forms.ModelForm):
    suds_start = forms.TypedChoiceField(
        choices=SUDS_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        label=gettext_lazy("SUDS at start (0 calm – 10 worst imaginable)"),
    )
    suds_end = forms.TypedChoiceField(
        choices=SUDS_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        label=gettext_lazy("SUDS at end"),
    )
    affect = _codes(AFFECT_CHOICES, gettext_lazy("Affect"))
    deescalation = _codes(DEESCALATION_CHOICES, gettext_lazy("De-escalation used"))

    class Meta:
        model = ExplorationStage
        fields = [
            "precipitating_event",
            "perceived_meaning",
            "perceived_cause",
            "suds_start",
            "suds_end",
            "suds_not_obtained_reason",
            "affect",
            "affect_notes",
            "deescalation",
            "deescalation_notes",
        ]
        widgets = {
            "precipitating_event": _text(3),
            "perceived_meaning": _text(),
            "perceived_cause": _text(),
            "affect_notes": _text(1),
            "deescalation_notes": _text(1),
        }
        labels = {
            "precipitating_event": gettext_lazy("Precipitating event"),
            "affect_notes": gettext_lazy("Affect notes"),
            "suds_not_obtained_reason": gettext_lazy("SUDS not obtained: reason"),
            "deescalation_notes": gettext_lazy("De-escalation notes"),
        }


def resource_label(resource: CommunityResource) -> str:
    """ "Name (contact)", with the category in front only when the name doesn't already say it:
    "988 Suicide & Crisis Lifeline: 988 Suicide & Crisis Lifeline (…)" read as a stutter."""
    category = str(resource.get_category_display())
    label = f"{resource.name} ({resource.contact})" if resource.contact else resource.name
    if category.lower() in resource.name.lower():
        return label
    return f"{category}: {label}"


@fast_field_copies
class RapportForm(CleanTextFormMixin, forms.ModelForm):
    """Resources are picked from the clinic's directory and stored as a snapshot (category, name,
    contact), so the record keeps what the client was told if the directory changes later."""

    resources_given = forms.MultipleChoiceField(
        choices=[],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label=gettext_lazy("Community resources given"),
    )

    class Meta:
        model = RapportStage
        fields = ["engagement_notes", "validation_notes", "practical_guidance", "resources_given"]
        widgets = {
            "engagement_notes": _text(),
            "validation_notes": _text(),
            "practical_guidance": _text(),
        }
        labels = {
            "engagement_notes": gettext_lazy("Engagement"),
            "validation_notes": gettext_lazy("Validation"),
            "practical_guidance": gettext_lazy("Practical guidance"),
        }

    def __init__(
        self, *args: Any, resources: list[CommunityResource] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.resources = {str(r.pk): r for r in resources or []}
        choices = [(pk, resource_label(r)) for pk, r in self.resources.items()]
        # Snapshots no longer in the directory stay pickable, so editing never drops them.
        self.kept: dict[str, dict[str, str]] = {}
        given = self.instance.resources_given or []
        initial = []
        for item in given:
            match = next(
                (
                    pk
                    for pk, r in self.resources.items()
                    if r.name == item.get("name") and r.category == item.get("category")
                ),
                None,
            )
            if match is None:
                match = f"kept:{item.get('category', '')}:{item.get('name', '')}"
                self.kept[match] = item
                choices.append((match, f"{item.get('name', '')} ({item.get('contact', '')})"))
            initial.append(match)
        field = self.fields["resources_given"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = choices
        # The clinic's directory and this note's kept snapshots: light_fields keeps no static
        # markup of these options (a copy per clinic and note would only fill its cache).
        field.dynamic_choices = True  # type: ignore[attr-defined]
        self.initial["resources_given"] = initial

    def clean_resources_given(self) -> list[dict[str, str]]:
        result = []
        for key in self.cleaned_data.get("resources_given") or []:
            if key in self.kept:
                result.append(self.kept[key])
            else:
                r = self.resources[key]
                result.append({"category": r.category, "name": r.name, "contact": r.contact})
        return result


@fast_field_copies
class ProblemSolvingForm(CleanTextFormMixin, forms.ModelForm):
    cognitive_errors = _codes(COGNITIVE_ERROR_CHOICES, gettext_lazy("Cognitive errors identified"))
    modality_used = _codes(MODALITY_USED_CHOICES, gettext_lazy("Modality used"))

    class Meta:
        model = ProblemSolvingStage
        fields = [
            "cognitive_errors",
            "reframes",
            "coping_tried",
            "alternatives",
            "action_plan",
            "modality_used",
            "interventions",
        ]
        widgets = {
            "reframes": _text(),
            "coping_tried": _text(),
            "alternatives": _text(),
            "action_plan": _text(),
            "interventions": _text(),
        }
        labels = {"action_plan": gettext_lazy("Action plan")}


@fast_field_copies
class FollowUpForm(CleanTextFormMixin, forms.ModelForm):
    """Referrals are a few fixed rows (to whom, urgency, made, accepted), kept as a list."""

    class Meta:
        model = FollowUpStage
        fields = [
            "supports",
            "triggers",
            "followup_plan",
            "crisis_numbers_given",
            "disposition",
            "disposition_other",
            "disposition_rationale",
            "task_not_done_reason",
            "task_not_done_text",
        ]
        widgets = {
            "supports": _text(),
            "triggers": _text(),
            "followup_plan": _text(),
            "disposition": forms.RadioSelect,
            "disposition_rationale": _text(),
        }
        labels = {
            "disposition": gettext_lazy("Disposition"),
            "disposition_rationale": gettext_lazy("Disposition rationale"),
            "crisis_numbers_given": gettext_lazy("Crisis numbers given"),
            "disposition_other": gettext_lazy("Other disposition"),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        referrals = list(self.instance.referrals or [])
        for i in range(1, REFERRAL_ROWS + 1):
            item = referrals[i - 1] if i <= len(referrals) else {}
            self.initial[f"referral_{i}_to"] = item.get("to", "")
            self.initial[f"referral_{i}_urgency"] = item.get("urgency", "")
            self.initial[f"referral_{i}_made"] = bool(item.get("made"))
            self.initial[f"referral_{i}_accepted"] = bool(item.get("accepted"))
        # Rows beyond the form's are kept as they are (e.g. copied forward).
        self.extra_referrals = referrals[REFERRAL_ROWS:]

    def referral_rows(self) -> list[list[forms.BoundField]]:
        return [
            [self[f"referral_{i}_{part}"] for part in ("to", "urgency", "made", "accepted")]
            for i in range(1, REFERRAL_ROWS + 1)
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        referrals = []
        for i in range(1, REFERRAL_ROWS + 1):
            to = (data.get(f"referral_{i}_to") or "").strip()
            if to:
                referrals.append(
                    {
                        "to": to,
                        "urgency": data.get(f"referral_{i}_urgency") or "",
                        "made": bool(data.get(f"referral_{i}_made")),
                        "accepted": bool(data.get(f"referral_{i}_accepted")),
                    }
                )
        data["referrals"] = referrals + self.extra_referrals
        require_reason_text(self, "task_not_done_reason", "task_not_done_text")
        return data

    def save(self, commit: bool = True) -> FollowUpStage:
        self.instance.referrals = self.cleaned_data["referrals"]
        return super().save(commit=commit)


class_choices(FollowUpForm, "disposition", Disposition.choices)
class_choices(FollowUpForm, "task_not_done_reason", REASON_CHOICES)


def _referral_label(number: int) -> str:
    return _("Referral %(number)d: to whom") % {"number": number}


# The referral rows' fields, made once on the class (every instance copies them) after the
# model's fields, as __init__ added them before; their labels translated when shown.
for _i in range(1, REFERRAL_ROWS + 1):
    FollowUpForm.base_fields[f"referral_{_i}_to"] = forms.CharField(
        required=False, max_length=300, label=lazy(_referral_label, str)(_i)
    )
    FollowUpForm.base_fields[f"referral_{_i}_urgency"] = forms.ChoiceField(
        choices=REFERRAL_URGENCY_CHOICES, required=False, label=gettext_lazy("Urgency")
    )
    FollowUpForm.base_fields[f"referral_{_i}_made"] = forms.BooleanField(
        required=False, label=gettext_lazy("Made")
    )
    FollowUpForm.base_fields[f"referral_{_i}_accepted"] = forms.BooleanField(
        required=False, label=gettext_lazy("Accepted")
    )


@fast_field_copies
class QuickNoteForm(CleanTextFormMixin, forms.Form):
    text = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        max_length=QUICK_NOTE,
        label=gettext_lazy("Quick note"),
    )


@fast_field_copies
class ProcessNoteForm(CleanTextFormMixin, forms.Form):
    """The private process note: not part of the record, but free text all the same."""

    text = forms.CharField(required=False, strip=False, label=gettext_lazy("Private process note"))


@fast_field_copies
class AddendumForm(CleanTextFormMixin, forms.ModelForm):
    class Meta:
        model = Addendum
        fields = ["kind", "text", "reason"]
        widgets = {
            "kind": forms.RadioSelect,
            "text": forms.Textarea(attrs={"rows": 3}),
            "reason": forms.Textarea(attrs={"rows": 2}),
        }
        labels = {
            "kind": gettext_lazy("Type"),
            "text": gettext_lazy("Text"),
            "reason": gettext_lazy("Reason"),
        }


class_choices(AddendumForm, "kind", AddendumKind.choices)


def choice_labels(choices: Choices, codes: list[str]) -> str:
    labels = dict(choices)
    return ", ".join(str(labels.get(code, code)) for code in codes or [])
