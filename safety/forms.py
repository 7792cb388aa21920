"""Forms of the safety stage, the safety plan editor and disclosures.

Stage forms check consistency only (the C-SSRS skip logic, value ranges): autosave must keep a
half-finished stage. What a signed note needs is checked by the sign rules (safety/rules.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from crisisnotes.accounts.models import User
from crisisnotes.forms import day_field, period_check_order, short_choice_list
from crisisnotes.validators import (
    CONTACT_NAME_MAX,
    CONTACT_PHONE_MAX,
    CleanTextFormMixin,
    validate_no_control_characters,
)
from safety.cssrs import ITEM_KEYS, ITEMS, CssrsVersion, cssrs_validate
from safety.models import (
    CONTACT_STEPS,
    Disclosure,
    HomicidalIdeation,
    MeansAccess,
    MeansSafety,
    NotDoneReason,
    NotifyMethod,
    PlanStep,
    Presence,
    RiskFormulation,
    SafetyScreen,
)
from sessions.forms.field_copies import class_choices, fast_field_copies
from sessions.forms.notes import require_reason_text
from sessions.models import CrisisSession
from sessions.models.notes import Modality, RiskLevel

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

YES_NO = [("yes", _("Yes")), ("no", _("No"))]

RISK_FACTORS: list[tuple[StrOrPromise, list[tuple[str, StrOrPromise]]]] = [
    (
        _("Suicidal behaviour"),
        [
            ("prior_attempt", _("Prior suicide attempt")),
            ("aborted_attempt", _("Aborted or interrupted attempt")),
            ("rehearsal", _("Rehearsal")),
            ("self_harm", _("Non-suicidal self-harm")),
        ],
    ),
    (
        _("Current or past diagnoses"),
        [
            ("mood_disorder", _("Mood disorder")),
            ("psychotic_disorder", _("Psychotic disorder")),
            ("substance_use", _("Substance use disorder")),
            ("ptsd", _("PTSD")),
        ],
    ),
    (
        _("Key symptoms"),
        [
            ("hopelessness", _("Hopelessness")),
            ("impulsivity", _("Impulsivity")),
            ("anxiety_panic", _("Anxiety or panic")),
            ("insomnia", _("Insomnia")),
            ("command_hallucinations", _("Command hallucinations")),
        ],
    ),
    (_("Family history"), [("family_suicide", _("Family history of suicide"))]),
    (
        _("Precipitants and stressors"),
        [
            ("loss", _("Loss")),
            ("shame", _("Shame or humiliation")),
            ("financial_legal", _("Financial or legal trouble")),
            ("medical_illness", _("Medical illness")),
            ("intoxication", _("Intoxication")),
            ("family_turmoil", _("Family turmoil")),
            ("abuse_history", _("History of abuse")),
        ],
    ),
    (
        _("Change in treatment"),
        [
            ("recent_discharge", _("Recent psychiatric discharge")),
            ("medication_change", _("Medication change")),
        ],
    ),
    (
        _("Access to lethal means"),
        [
            ("firearms_access", _("Access to firearms")),
            ("lethal_medication_access", _("Access to lethal medication")),
        ],
    ),
]

PROTECTIVE_FACTORS: list[tuple[StrOrPromise, list[tuple[str, StrOrPromise]]]] = [
    (
        _("Internal"),
        [
            ("coping_skills", _("Coping skills")),
            ("beliefs", _("Religious or cultural beliefs")),
            ("frustration_tolerance", _("Frustration tolerance")),
        ],
    ),
    (
        _("External"),
        [
            ("responsibility", _("Responsibility to family, children or pets")),
            ("therapeutic_relationship", _("Positive therapeutic relationship")),
            ("social_supports", _("Social supports")),
        ],
    ),
]

BARS = [
    (1, _("1 – Difficult or unable to rouse")),
    (2, _("2 – Asleep, responds normally to contact")),
    (3, _("3 – Drowsy, appears sedated")),
    (4, _("4 – Quiet and awake")),
    (5, _("5 – Overt activity, calms with instructions")),
    (6, _("6 – Extremely or continuously active, no restraint needed")),
    (7, _("7 – Violent, requires restraint")),
]
ZERO_TO_TEN = [
    (
        i,
        format_lazy("{} – {}", i, _("calm"))
        if i == 0
        else format_lazy("{} – {}", i, _("most agitated"))
        if i == 10
        else str(i),
    )
    for i in range(11)
]


def flat(groups: list[tuple[StrOrPromise, list[tuple[str, StrOrPromise]]]]) -> dict[str, str]:
    """{code: label}, the labels in the active language."""
    return {code: str(label) for _group, choices in groups for code, label in choices}


def _text(rows: int = 2) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


def _dash_for_blank(field: forms.Field) -> None:
    """Selects say "—" for no answer, like the rest of the app, not Django's "---------"."""
    assert isinstance(field, forms.ChoiceField)
    field.choices = _dashed(field)


def _dashed(field: forms.Field) -> list[tuple[Any, Any]]:
    assert isinstance(field, forms.ChoiceField)
    choices: list[tuple[Any, Any]] = list(field.choices)  # type: ignore[arg-type]
    return [("", "—") if value == "" else (value, label) for value, label in choices]


def _class_dash_for_blank(form_class: type[forms.BaseForm], name: str) -> None:
    """`_dash_for_blank` once, on the form class's field (every instance copies it)."""
    class_choices(form_class, name, _dashed(form_class.base_fields[name]))  # type: ignore[attr-defined]


def _yes_no(value: str) -> bool:
    return value == "yes"


SCREEN_FIELDS = ["version", *ITEM_KEYS, "not_done_reason", "not_done_text"]
FORMULATION_FIELDS = [
    "risk_factors",
    "risk_factors_other",
    "protective_factors",
    "protective_factors_other",
    "ideation_frequency",
    "ideation_intensity",
    "plan_details",
    "intent",
    "reasons_to_die",
    "reasons_to_live",
    "homicidal_ideation",
    "identifiable_target",
    "target_description",
    "clinician_level",
    "imminent",
    "rationale",
    "override_reason",
    "duty_to_warn_not_indicated_rationale",
    "duty_to_warn_consulted_with",
    "abuse_disclosed",
    "abuse_rationale",
    "plan_not_done_reason",
    "plan_not_done_text",
    "supervisor_not_done_reason",
    "supervisor_not_done_text",
]
MEANS_FIELDS = [
    "agitation",
    "intoxication",
    "substance",
    "firearms",
    "medications",
    "other_means",
    "other_means_text",
    "means_safety_notes",
    "means_not_done_reason",
    "means_not_done_text",
    "lethality_notes",
]


@fast_field_copies
class ScreenForm(CleanTextFormMixin, forms.ModelForm):
    """The C-SSRS items as yes/no radios; an unanswered or hidden (skipped) item posts nothing."""

    # Part of the note page's one form, saved while half-filled: never block the browser's submit.
    use_required_attribute = False

    version = forms.ChoiceField(
        choices=CssrsVersion.choices,
        # Bootstrap's form-check styling needs the class on each input (the template lays out
        # the radios itself).
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        label=_("Screen version"),
    )

    class Meta:
        model = SafetyScreen
        fields = SCREEN_FIELDS

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for item in ITEMS:
            value = getattr(self.instance, item.key)
            self.initial[item.key] = "" if value is None else ("yes" if value else "no")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        version = data.get("version") or CssrsVersion.RECENT
        for key, message in cssrs_validate({k: data.get(k) for k in ITEM_KEYS}, version).items():
            self.add_error(key, message)
        if (
            data.get("not_done_reason") == NotDoneReason.OTHER
            and not (data.get("not_done_text") or "").strip()
        ):
            self.add_error("not_done_text", _("Say why the screen could not be completed."))
        return data

    def item_rows(self) -> list[tuple[Any, forms.BoundField]]:
        return [(item, self[item.key]) for item in ITEMS]


# Set once on the class's fields, which every instance copies (they were rebuilt by every
# form's __init__): the items as yes/no radios in place of the model's booleans (same place
# in the field order), the reason optional with "—" for no answer.
for _item in ITEMS:
    ScreenForm.base_fields[_item.key] = forms.TypedChoiceField(
        choices=YES_NO,
        coerce=_yes_no,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        label=f"{_item.number}. {_item.text}",
    )
ScreenForm.base_fields["not_done_reason"].required = False
_class_dash_for_blank(ScreenForm, "not_done_reason")


@fast_field_copies
class FormulationForm(CleanTextFormMixin, forms.ModelForm):
    use_required_attribute = False
    risk_factors = forms.MultipleChoiceField(
        choices=RISK_FACTORS, widget=forms.CheckboxSelectMultiple, required=False
    )
    protective_factors = forms.MultipleChoiceField(
        choices=PROTECTIVE_FACTORS, widget=forms.CheckboxSelectMultiple, required=False
    )

    class Meta:
        model = RiskFormulation
        fields = FORMULATION_FIELDS
        widgets = {
            "plan_details": _text(),
            "intent": _text(),
            "reasons_to_die": _text(),
            "reasons_to_live": _text(),
            "homicidal_ideation": forms.RadioSelect,
            "clinician_level": forms.RadioSelect,
            "rationale": _text(3),
            "override_reason": _text(),
            "duty_to_warn_not_indicated_rationale": _text(),
            "abuse_rationale": _text(),
        }
        labels = {
            "risk_factors_other": _("Other risk factors"),
            "protective_factors_other": _("Other protective factors"),
            "identifiable_target": _("There is an identifiable target"),
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        require_reason_text(self, "plan_not_done_reason", "plan_not_done_text")
        require_reason_text(self, "supervisor_not_done_reason", "supervisor_not_done_text")
        return data


# Radios without the blank "---------" choice: no answer is simply no radio checked. Set once
# on the class's fields, which every instance copies.
class_choices(FormulationForm, "homicidal_ideation", HomicidalIdeation.choices, required=False)
class_choices(
    FormulationForm,
    "clinician_level",
    [c for c in RiskLevel.choices if c[0] != RiskLevel.NONE],
    required=False,
)
_class_dash_for_blank(FormulationForm, "plan_not_done_reason")
_class_dash_for_blank(FormulationForm, "supervisor_not_done_reason")


@fast_field_copies
class MeansForm(CleanTextFormMixin, forms.ModelForm):
    use_required_attribute = False
    # Any 0–10 value is accepted while typing (the modality may change in the same save); the
    # sign rule holds face-to-face contacts to BARS 1–7.
    agitation = forms.IntegerField(min_value=0, max_value=10, required=False)

    class Meta:
        model = MeansSafety
        fields = MEANS_FIELDS
        widgets = {
            "intoxication": forms.RadioSelect,
            "firearms": forms.RadioSelect,
            "medications": forms.RadioSelect,
            "other_means": forms.RadioSelect,
            "means_safety_notes": _text(),
            "lethality_notes": _text(),
        }

    def __init__(self, *args: Any, modality: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.bars = modality in Modality.face_to_face()
        agitation = self.fields["agitation"]
        # The scale depends on the modality: a widget per instance, its choices made once.
        agitation.widget = forms.Select(choices=_BARS_CHOICES if self.bars else _TEN_CHOICES)
        agitation.label = (
            _("Agitation (BARS, 1–7)") if self.bars else _("Agitation (clinician rating, 0–10)")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        require_reason_text(self, "means_not_done_reason", "means_not_done_text")
        return data


_BARS_CHOICES = [("", "—"), *BARS]
_TEN_CHOICES = [("", "—"), *ZERO_TO_TEN]
_class_dash_for_blank(MeansForm, "means_not_done_reason")
for _name, _choices in (
    ("intoxication", Presence.choices),
    ("firearms", MeansAccess.choices),
    ("medications", MeansAccess.choices),
    ("other_means", MeansAccess.choices),
):
    class_choices(MeansForm, _name, _choices, required=False)


@fast_field_copies
class SupervisorRecordForm(CleanTextFormMixin, forms.Form):
    """A notification made outside the app (phone, in person), recorded by the counselor."""

    supervisor: forms.ModelChoiceField = forms.ModelChoiceField(
        queryset=User.objects.none(), label=_("Supervisor"), empty_label="—"
    )
    method = forms.ChoiceField(
        choices=[c for c in NotifyMethod.choices if c[0] != NotifyMethod.IN_APP], label=_("How")
    )
    notified_at = forms.DateTimeField(
        label=_("When"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        initial=timezone.now,
    )
    response = forms.CharField(widget=_text(), label=_("Supervisor's response"))

    def __init__(
        self, *args: Any, supervisors: Any, supervisor_rows: Any = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["supervisor"]
        assert isinstance(field, forms.ModelChoiceField)
        short_choice_list(field, supervisors, rows=supervisor_rows)

    @classmethod
    def for_user(cls, user: Any, data: Any = None) -> SupervisorRecordForm:
        from safety.selectors import supervisors_of_clinic, supervisors_of_clinic_rows

        # Rendered inside the note page's form: no `required` attributes, or the browser would
        # refuse to submit the note (save, sign) while this optional form is empty.
        form = cls(
            data,
            prefix="supervisor-record",
            supervisors=supervisors_of_clinic(user=user),
            supervisor_rows=lambda: supervisors_of_clinic_rows(user=user),
            use_required_attribute=False,
        )
        # Its controls belong to the note page's side form (templates/sessions/note_edit.html,
        # HTML's form= attribute; htmx posts them by selector), not to the note's form: they are
        # not the note's text, so the note's autosave, backup and "is this our own save?" check
        # never carry them. That check compared the "notified at" default (now, to the minute)
        # and saw a conflict with the page's own save when the minute turned in between.
        for field in form.fields.values():
            field.widget.attrs["form"] = "note-side-form"
        return form


class AcknowledgeForm(CleanTextFormMixin, forms.Form):
    response = forms.CharField(
        widget=_text(4),
        label=_("Your response"),
        help_text=_("What you advised or decided (e.g. “Agree with ED transfer, calling back”)."),
    )


MAX_ENTRIES = 12


class SafetyPlanForm(CleanTextFormMixin, forms.Form):
    """The six steps, each a list of entries: one text per line for steps 1, 2, 6; rows of name and
    phone for steps 3–5 (posted as <step>-name / <step>-phone lists)."""

    warning_signs = forms.CharField(
        widget=_text(3),
        required=False,
        label=PlanStep.WARNING_SIGNS.label,
        help_text=_("In the client's own words. One per line."),
    )
    coping = forms.CharField(
        widget=_text(3),
        required=False,
        label=PlanStep.COPING.label,
        help_text=_("Things I can do to take my mind off my problems. One per line."),
    )
    environment = forms.CharField(
        widget=_text(3),
        required=False,
        label=PlanStep.ENVIRONMENT.label,
        help_text=_("Lethal means and how they are made safe. One per line."),
    )
    worth_living_for = forms.CharField(
        widget=_text(2),
        required=False,
        label=_("The one thing that is most important to me and worth living for"),
    )
    likelihood_of_use = forms.TypedChoiceField(
        choices=[("", "—"), *((i, str(i)) for i in range(11))],
        coerce=int,
        empty_value=None,
        required=False,
        label=_("How likely is the client to use this plan? (0–10)"),
    )
    barriers = forms.CharField(widget=_text(2), required=False, label=_("Barriers to using it"))
    copy_kept_where = forms.CharField(
        max_length=300, required=False, label=_("Where the client keeps the copy")
    )
    copy_given = forms.BooleanField(required=False, label=_("A copy was given to the client"))

    TEXT_STEPS = ("warning_signs", "coping", "environment")

    def __init__(
        self,
        *args: Any,
        contacts: dict[str, list[dict[str, str]]],
        form_id: str = "",
        **kwargs: Any,
    ):
        super().__init__(*args, **kwargs)
        self.contacts = contacts
        # In the note's plan panel the fields sit inside the note's form on the page but belong
        # to the panel's own form (HTML's form= attribute): the note's autosave never sends them.
        self.form_id = form_id
        if form_id:
            for field in self.fields.values():
                field.widget.attrs["form"] = form_id

    # Step 4 is people (CLINICAL.md §7: name, phone); step 3 may be a place, step 5 a service.
    PLACEHOLDERS = {
        PlanStep.DISTRACTION: "Name or place",
        PlanStep.HELP: "Name",
        PlanStep.PROFESSIONALS: "Name or service",
    }

    def contact_rows(self) -> list[tuple[str, StrOrPromise, str, list[dict[str, str]]]]:
        """(step, label, name placeholder, rows) for steps 3–5, with two blank rows to add
        entries without script (static/js/plan_rows.js adds more on the page)."""
        return [
            (
                step.value,
                step.label,
                self.PLACEHOLDERS[step],
                [*self.contacts.get(step.value, []), *([{}] * 2)],
            )
            for step in CONTACT_STEPS
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.data is not None and hasattr(self.data, "getlist"):
            self.contacts = {}
            for step in CONTACT_STEPS:
                names = self.data.getlist(f"{step.value}-name")
                phones = self.data.getlist(f"{step.value}-phone")
                rows = [
                    {"name": n.strip(), "phone": p.strip()}
                    for n, p in zip(names, phones, strict=False)
                    if n.strip() or p.strip()
                ]
                if any(not r["name"] for r in rows):
                    self.add_error(None, f"{step.label}: every phone number needs a name.")
                for problem in _contact_problems(rows):
                    self.add_error(None, f"{step.label}: {problem}")
                if len(rows) > MAX_ENTRIES:
                    self.add_error(None, f"{step.label}: at most {MAX_ENTRIES} entries.")
                self.contacts[step.value] = rows
        return data

    def steps(self) -> dict[str, list[Any]]:
        data = self.cleaned_data
        steps: dict[str, list[Any]] = {}
        for step in PlanStep:
            if step in CONTACT_STEPS:
                steps[step.value] = list(self.contacts.get(step.value, []))
            else:
                lines = (data.get(step.value) or "").splitlines()
                steps[step.value] = [line.strip() for line in lines if line.strip()]
        return steps


def _contact_problems(rows: list[dict[str, str]]) -> list[str]:
    """The rows of steps 3–5 are posted as plain lists, not form fields: the same limits and
    control-character rule as every text field, checked here."""
    problems: list[str] = []
    for row in rows:
        for key, limit in (("name", CONTACT_NAME_MAX), ("phone", CONTACT_PHONE_MAX)):
            if len(row[key]) > limit:
                problems.append(
                    f"a {key} has {len(row[key])} characters; at most {limit} are allowed."
                )
            try:
                validate_no_control_characters(row[key])
            except forms.ValidationError as error:
                problems.extend(error.messages)
    return problems


class DisclosureForm(CleanTextFormMixin, forms.ModelForm):
    class Meta:
        model = Disclosure
        fields = [
            "type",
            "legal_basis",
            "threat_description",
            "identifiable_victim",
            "imminence",
            "consulted_with",
            "recipient",
            "recipient_address",
            "reference_number",
            "disclosed_at",
            "information_disclosed",
            "purpose",
            "individual_informed",
            "not_informed_reason",
        ]
        widgets = {
            "disclosed_at": forms.DateTimeInput(
                attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"
            ),
            "threat_description": _text(),
            "information_disclosed": _text(3),
            "purpose": _text(2),
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _dash_for_blank(self.fields["type"])
        field = self.fields["disclosed_at"]
        assert isinstance(field, forms.DateTimeField)
        field.input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]
        if not self.is_bound and not self.initial.get("disclosed_at"):
            self.initial["disclosed_at"] = timezone.localtime().strftime("%Y-%m-%dT%H:%M")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            not data.get("individual_informed")
            and not (data.get("not_informed_reason") or "").strip()
        ):
            self.add_error(
                "not_informed_reason",
                _("Say why the client was not informed (or tick that they were)."),
            )
        return data


class DisclosureRecordForm(DisclosureForm):
    """A disclosure recorded from the client's accounting: at any time, with or without one of
    the client's sessions. `sessions` are the ones this user may record against (a counselor:
    their own; a supervisor or admin: every one, or none)."""

    session = forms.ModelChoiceField(
        queryset=CrisisSession.objects.none(),
        required=False,
        label=_("Session"),
        empty_label=_("Not tied to a session"),
    )

    class Meta(DisclosureForm.Meta):
        fields = ["session", *DisclosureForm.Meta.fields]

    def __init__(
        self, *args: Any, sessions: Any, session_required: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["session"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = sessions
        field.required = session_required
        field.label_from_instance = lambda note: (  # type: ignore[method-assign,assignment]
            f"#{note.pk} · {timezone.localtime(note.started_at):%Y-%m-%d %H:%M} · "
            f"{note.author.display_name} ({note.get_status_display().lower()})"
        )


class ExportDisclosureForm(DisclosureForm):
    """A bulk export sent outside the clinic: who received it, when, why, under what basis."""

    class Meta(DisclosureForm.Meta):
        fields = [
            "type",
            "legal_basis",
            "recipient",
            "recipient_address",
            "reference_number",
            "disclosed_at",
            "information_disclosed",
            "purpose",
            "individual_informed",
            "not_informed_reason",
        ]


class PeriodForm(CleanTextFormMixin, forms.Form):
    """A period of whole days (the clinic's time zone), both ends optional."""

    date_from = day_field(_("From"))
    date_to = day_field(_("To"))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        period_check_order(data)
        return data
