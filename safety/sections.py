"""The Safety section of the note (the first stage), plugged into sessions through its registry:
its sign rules and co-sign reasons (safety/rules.py), its client page panels and what a
supervisor's consult reply completes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django import forms as django_forms
from django.conf import settings
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from crisisnotes.html import autoescaped
from crisisnotes.prepared import PreparedRead, Statement
from safety import rules
from safety.cssrs import (
    ITEM6_EXAMPLES,
    ITEMS,
    LABELS,
    NONE,
    WINDOW_TEXT,
    CssrsVersion,
    Wording,
    cssrs_any_yes,
    cssrs_items,
    cssrs_missing,
    cssrs_risk,
    cssrs_risk_floor,
    cssrs_risk_text,
    cssrs_wording,
)
from safety.fhir import safety_fhir_resources
from safety.forms import (
    BARS,
    FORMULATION_FIELDS,
    MEANS_FIELDS,
    PROTECTIVE_FACTORS,
    RISK_FACTORS,
    SCREEN_FIELDS,
    FormulationForm,
    MeansForm,
    ScreenForm,
    SupervisorRecordForm,
    flat,
)
from safety.models import (
    Disclosure,
    MeansSafety,
    RiskFormulation,
    SafetyScreen,
    SupervisorNotification,
)
from safety.selectors import (
    disclosure_list_for_note,
    disclosure_recent_for_client,
    note_safety_ahead,
    note_safety_readonly_ahead,
    plan_current_summary,
    plan_in_force,
    plan_in_force_ahead,
    supervisor_notification_list,
)
from safety.services import note_risk_refresh, supervisor_notification_answer
from sessions import registry
from sessions.models import Client, ConsultReply, CrisisSession
from sessions.models.notes import ContactType, Modality
from sessions.registry import ClientPanel, Completion, NoteSection, SignProblem

if TYPE_CHECKING:
    from sessions.fhir import FhirRefs

SCREEN, FORMULATION, MEANS = "safety-screen", "safety-formulation", "safety-means"


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


# The stage's lists as the content hash reads them (SafetySection.content), sent together with
# the other sections' (`content_reads`).
_CONTENT_NOTIFICATIONS = PreparedRead(
    lambda *, note_id: SupervisorNotification.objects.filter(session_id=note_id).order_by("id"),
    ids=("note_id",),
)
_CONTENT_DISCLOSURES = PreparedRead(
    lambda *, note_id: Disclosure.objects.filter(session_id=note_id).order_by("id"),
    ids=("note_id",),
)


def _model_content(row: Any, fields: list[str]) -> dict[str, Any]:
    return {name: _plain(getattr(row, name)) for name in fields}


class SafetySection(NoteSection):
    key = "safety"
    title = "Safety"
    order = 10
    template_name = "safety/partials/section_edit.html"
    readonly_template_name = "safety/partials/section_readonly.html"

    def select_related(self) -> tuple[str, ...]:
        return ("safety_screen", "risk_formulation", "means_safety")

    def sign_problems(self, note: CrisisSession) -> Iterable[SignProblem]:
        for rule in rules.RULES:
            yield from rule(note)

    def cosign_reasons(self, note: CrisisSession) -> list[str]:
        return [r for reason in rules.COSIGN_REASONS if (r := reason(note))]

    def client_panels(self) -> list[ClientPanel]:
        return CLIENT_PANELS

    def consult_reply_saved(self, reply: ConsultReply) -> None:
        # A supervisor's reply on the live board answers their pending "Notify supervisor"
        # record, so sign rule 6 sees the response without their typing it twice.
        supervisor_notification_answer(reply)

    def create_rows(self, *, note: CrisisSession) -> None:
        SafetyScreen.objects.create(session=note)
        RiskFormulation.objects.create(session=note)
        MeansSafety.objects.create(session=note)

    def rows(self, note: CrisisSession) -> tuple[SafetyScreen, RiskFormulation, MeansSafety]:
        return note.safety_screen, note.risk_formulation, note.means_safety

    def get_forms(self, *, note: CrisisSession, data: Any = None) -> list[django_forms.BaseForm]:
        screen, formulation, means = self.rows(note)
        return [
            ScreenForm(data=data, instance=screen, prefix=SCREEN),
            FormulationForm(data=data, instance=formulation, prefix=FORMULATION),
            MeansForm(data=data, instance=means, prefix=MEANS, modality=note.modality),
        ]

    def save(self, *, note: CrisisSession, forms: list[django_forms.BaseForm]) -> bool:
        """Save the stage and keep the screen's computed risk and the note's risk fields in step
        with it (same transaction as the caller's autosave)."""
        screen_form, formulation_form, _means_form = forms
        changed = False
        for form in forms:
            if form.has_changed():
                form.save()  # type: ignore[attr-defined]
                changed = True
        screen: SafetyScreen = screen_form.instance  # type: ignore[attr-defined]
        risk = cssrs_risk(screen.answers, screen.version) or ""
        if screen.risk != risk:
            screen.risk = risk
            screen.save(update_fields=["risk", "updated_at"])
            changed = True
        formulation: RiskFormulation = formulation_form.instance  # type: ignore[attr-defined]
        if note_risk_refresh(note=note, screen=screen, formulation=formulation):
            changed = True
        return changed

    def completion(self, *, note: CrisisSession) -> Completion:
        screen, formulation, means = self.rows(note)
        answers = screen.answers
        started = (
            any(v is not None for v in answers.values())
            or bool(screen.not_done_reason)
            or means.agitation is not None
            or bool(formulation.clinician_level)
        )
        if not started:
            return Completion.EMPTY
        screen_done = bool(screen.not_done_reason) or not cssrs_missing(answers, screen.version)
        formulated = not cssrs_any_yes(answers) or (
            bool(formulation.clinician_level) and bool(formulation.rationale.strip())
        )
        done = screen_done and formulated and means.agitation is not None
        return Completion.COMPLETE if done else Completion.IN_PROGRESS

    def last_edited(self, *, note: CrisisSession) -> Any:
        return max(row.updated_at for row in self.rows(note))

    def content(self, *, note: CrisisSession) -> dict[str, Any]:
        screen, formulation, means = self.rows(note)
        plan = plan_in_force(note=note)
        return {
            "screen": _model_content(screen, [*SCREEN_FIELDS, "risk"]),
            "formulation": _model_content(formulation, FORMULATION_FIELDS),
            "means": _model_content(means, MEANS_FIELDS),
            "supervisor_notifications": [
                _model_content(
                    n,
                    [
                        "supervisor_id",
                        "supervisor_name",
                        "notified_at",
                        "method",
                        "response",
                        "responded_at",
                    ],
                )
                for n in _CONTENT_NOTIFICATIONS(note_id=note.pk)
            ],
            "disclosures": [d.pk for d in _CONTENT_DISCLOSURES(note_id=note.pk)],
            "safety_plan_version": plan.pk if plan else None,
        }

    def fhir_resources(self, *, note: CrisisSession, refs: FhirRefs) -> list[dict[str, Any]]:
        """The C-SSRS QuestionnaireResponse, the RiskAssessments, the safety plan CarePlan and
        the disclosures (safety/fhir.py)."""
        return safety_fhir_resources(note=note, refs=refs)

    def _common(self, note: CrisisSession) -> dict[str, Any]:
        screen, formulation, means = self.rows(note)
        notifications = supervisor_notification_list(note=note)
        face_to_face = note.modality in Modality.face_to_face()
        floor = cssrs_risk_floor(screen.answers, screen.version)
        return {
            "screen": screen,
            "formulation": formulation,
            "means": means,
            "items": [(item, getattr(screen, item.key)) for item in cssrs_items(screen.version)],
            "item6_examples": ITEM6_EXAMPLES,
            "as_reported": note.contact_type == ContactType.THIRD_PARTY,
            "coded_reasons": rules.coded_reasons(note),
            # What is known of an unfinished screen ("at least Moderate so far"); the stored
            # screen.risk stays empty until every way of finishing agrees.
            "risk_text": cssrs_risk_text(screen.answers, screen.version),
            "risk_floor_label": LABELS[floor] if floor and floor != NONE else "",
            "risk_factor_labels": _labels(RISK_FACTORS, formulation.risk_factors),
            "protective_factor_labels": _labels(PROTECTIVE_FACTORS, formulation.protective_factors),
            "agitation_heading": gettext("Agitation, BARS 1–7")
            if face_to_face
            else gettext("Agitation, clinician rating 0–10"),
            "agitation_label": dict(BARS).get(means.agitation or -1, "") if face_to_face else "",
            "notifications": notifications,
            "plan": plan_in_force(note=note),
            "disclosures": disclosure_list_for_note(note=note),
        }

    def edit_reads(self, *, note: CrisisSession) -> list[Statement]:
        return note_safety_ahead(note=note)

    def readonly_reads(self, *, note: CrisisSession) -> list[Statement]:
        return note_safety_readonly_ahead(note=note)

    def content_reads(self, *, note: CrisisSession) -> list[Statement]:
        return [
            _CONTENT_NOTIFICATIONS.statement(note_id=note.pk),
            _CONTENT_DISCLOSURES.statement(note_id=note.pk),
            plan_in_force_ahead(note=note),
        ]

    def edit_context(
        self, *, note: CrisisSession, forms: list[django_forms.BaseForm]
    ) -> dict[str, Any]:
        context = self._common(note)
        screen_form, formulation_form = forms[0], forms[1]
        version = str(screen_form["version"].value() or CssrsVersion.RECENT)
        any_yes = cssrs_any_yes(context["screen"].answers)
        # The items are read to the client: in the client's language where a validated
        # translation of that version exists, else in English with a notice (safety/cssrs.py).
        wordings: dict[str, Wording] = {
            str(v): cssrs_wording(v, note.client.language)
            for v in (CssrsVersion.RECENT, CssrsVersion.SINCE_LAST_CONTACT)
        }
        window_text: dict[str, str] = {v: _window_text(v, wordings[v]) for v in wordings}
        context.update(
            {
                # Both versions' wording on each row: cssrs.js shows the chosen one.
                "item_rows": [
                    {
                        "item": item,
                        "field": screen_form[item.key],
                        "recent": wordings[CssrsVersion.RECENT].items[item.key],
                        "since_last_contact": wordings[CssrsVersion.SINCE_LAST_CONTACT].items.get(
                            item.key, ""
                        ),
                        "current": wordings.get(version, wordings[CssrsVersion.RECENT]).items.get(
                            item.key
                        )
                        or wordings[CssrsVersion.RECENT].items[item.key],
                    }
                    for item in ITEMS
                ],
                "item6_examples_by_version": {v: w.item6_examples for v, w in wordings.items()},
                "item6_examples": wordings.get(
                    version, wordings[CssrsVersion.RECENT]
                ).item6_examples,
                "window_text": {**window_text, "current": window_text.get(version, "")},
                # SAFE-T starts as one line while no answer is yes and nothing is written in it.
                "formulation_open": any_yes
                or bool(formulation_form.errors)
                or any(
                    _filled(context["formulation"], name)
                    for name in FORMULATION_FIELDS
                    if "_not_done_" not in name  # the plan/supervisor reasons sit elsewhere
                ),
                "screen_form": forms[0],
                "formulation_form": forms[1],
                "means_form": forms[2],
                "any_yes": any_yes,
                "record_form": SupervisorRecordForm.for_user(note.author),
            }
        )
        context["item_rows_html"] = cssrs_item_rows_html(context)
        return context

    def readonly_context(self, *, note: CrisisSession) -> dict[str, Any]:
        return self._common(note)


_CSSRS_ROW = (
    '\n        <tr data-cssrs-item="{key}" id="cssrs-row-{key}">'
    '\n          <th scope="row" class="fw-normal"><span id="{id}-label">{number}. '
    '<span data-cssrs-text data-text-recent="{recent}" '
    'data-text-since_last_contact="{since}">{current}</span></span>'
    "\n            {examples}"
    "\n            {errors}"
    "\n          </th>"
    '\n          <td class="text-nowrap" role="radiogroup" aria-labelledby="{id}-label">'
    '\n            <div class="form-check form-check-inline">'
    '\n              <input class="form-check-input" type="radio" name="{name}" value="yes" '
    'id="{id}"{yes_checked}>'
    '\n              <label class="form-check-label" for="{id}">{yes}</label>'
    "\n            </div>"
    '\n            <div class="form-check form-check-inline">'
    '\n              <input class="form-check-input" type="radio" name="{name}" value="no" '
    'id="{id}_no"{no_checked}>'
    '\n              <label class="form-check-label" for="{id}_no">{no}</label>'
    "\n            </div>"
    "\n          </td>"
    "\n        </tr>\n      "
)


def cssrs_item_rows_html(context: dict[str, Any]) -> SafeString:
    """The C-SSRS table's rows on the note page (`item_rows` of `edit_context`), written here:
    as a template loop each row's ~30 nodes (ids, both wordings, the yes/no radios and whether
    each is checked) were ~180 of the page's ~800. The markup of the loop they replace
    (tests/safety/rows_before_cssrs_item_rows.html; tests/safety/test_sections.py renders both
    and compares), every value escaped as autoescape does."""
    examples_by_version = context["item6_examples_by_version"]
    examples = (
        '<div class="small text-body-secondary" data-cssrs-examples data-text-recent="{}" '
        'data-text-since_last_contact="{}">{}</div>'
    ).format(
        autoescaped(examples_by_version.get("recent", "")),
        autoescaped(examples_by_version.get("since_last_contact", "")),
        autoescaped(context["item6_examples"]),
    )
    yes, no = autoescaped(gettext("Yes")), autoescaped(gettext("No"))
    rows = []
    for row in context["item_rows"]:
        item, field = row["item"], row["field"]
        value = field.value()
        errors = field.errors
        rows.append(
            _CSSRS_ROW.format(
                key=autoescaped(item.key),
                id=autoescaped(field.auto_id),
                number=autoescaped(item.number),
                recent=autoescaped(row["recent"]),
                since=autoescaped(row["since_last_contact"]),
                current=autoescaped(row["current"]),
                examples=examples if item.key == "q6" else "",
                errors=(
                    '<div class="invalid-feedback d-block">'
                    + " ".join(autoescaped(error) for error in errors)
                    + "</div>"
                    if errors
                    else ""
                ),
                name=autoescaped(field.html_name),
                yes_checked=" checked" if value == "yes" or value is True else "",
                no_checked=" checked" if value == "no" or value is False else "",
                yes=yes,
                no=no,
            )
        )
    return mark_safe("".join(rows))  # noqa: S308 — every value escaped by autoescaped


def _window_text(version: str, wording: Wording) -> str:
    """The time frame of the version, and the notice when the client's language has no
    validated translation of it (the items then stay in English)."""
    text = str(WINDOW_TEXT[version])
    if wording.fallback:
        names = dict(settings.LANGUAGES)
        notice = gettext("No validated translation in %(language)s; items shown in English.") % {
            "language": names.get(wording.requested_language, wording.requested_language)
        }
        text = f"{text} {notice}"
    return text


def _filled(row: Any, name: str) -> bool:
    return getattr(row, name) not in (None, "", [], False)


def _labels(groups: list[Any], codes: list[str]) -> list[str]:
    labels = flat(groups)
    return [labels.get(code, code) for code in codes or []]


def _plan_panel(client: Client, user: Any) -> dict[str, Any]:
    return {"client": client, "plan": plan_current_summary(client=client)}


def _disclosures_panel(client: Client, user: Any) -> dict[str, Any]:
    return {"client": client, "disclosures": disclosure_recent_for_client(client=client, limit=5)}


CLIENT_PANELS = [
    ClientPanel(
        key="safety_plan",
        order=10,
        template_name="safety/partials/client_plan_panel.html",
        context=_plan_panel,
    ),
    ClientPanel(
        key="disclosures",
        order=20,
        template_name="safety/partials/client_disclosures_panel.html",
        context=_disclosures_panel,
    ),
]


registry.register_section(SafetySection())
