"""Sign-time rules 2–9 of CLINICAL.md §9 (and the agitation part of rule 1), each its own
function with its own message and link, which the Safety section (safety/sections.py) returns
as its sign problems, plus its co-sign reasons (a clinician level below the screen's, a
high-risk note signed with coded reasons). Policy thresholds are clinic settings."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy

from safety.cssrs import (
    ITEM_BY_KEY,
    CssrsVersion,
    cssrs_any_yes,
    cssrs_missing,
    cssrs_validate,
)
from safety.models import (
    ABUSE_TYPES,
    Disclosure,
    DisclosureType,
    HomicidalIdeation,
    MeansAccess,
    MeansSafety,
    RiskFormulation,
    SafetyScreen,
    SupervisorNotification,
)
from safety.selectors import plan_in_force
from sessions.contact_types import Requirement as R
from sessions.contact_types import reason_text, requires, urgent_after_disconnect
from sessions.models import CrisisSession, FollowUpTask
from sessions.models.notes import Disposition, Modality, RiskLevel
from sessions.registry import SignProblem
from sessions.risk import governing_risk, is_high_risk

SECTION = "safety"
FOLLOW_UP = "follow_up"
# Anchors in the safety section's editable partial (templates/safety/partials/section_edit.html)
# and the follow-up tasks partial.
PLAN_ANCHOR = "safety-plan"
SUPERVISOR_ANCHOR = "safety-supervisor"
DISCLOSURES_ANCHOR = "safety-disclosures"
TASKS_ANCHOR = "follow-up-tasks"


def screen_id(field: str) -> str:
    return f"id_safety-screen-{field}"


def formulation_id(field: str) -> str:
    return f"id_safety-formulation-{field}"


def means_id(field: str) -> str:
    return f"id_safety-means-{field}"


def _problem(message: str, field_id: str, code: str, section: str = SECTION) -> SignProblem:
    return SignProblem(message=message, section=section, field_id=field_id, code=code)


def _screen(note: CrisisSession) -> SafetyScreen:
    return note.safety_screen


def _formulation(note: CrisisSession) -> RiskFormulation:
    return note.risk_formulation


def _means(note: CrisisSession) -> MeansSafety:
    return note.means_safety


def governing_level(note: CrisisSession) -> str:
    """The governing level (sessions.risk) read from the stage rows themselves: the sign rules
    judge what the stages say, whatever the note row's copy of the levels."""
    return governing_risk(clinician=_formulation(note).clinician_level, screen=_screen(note).risk)


def _rank(level: str) -> int:
    return RiskLevel.rank(level or "")


def agitation_rated(note: CrisisSession) -> Iterable[SignProblem]:
    """Rule 1 (agitation): rated, on BARS 1–7 for in-person, video and mobile contacts."""
    if not requires(note, R.AGITATION):
        return
    value = _means(note).agitation
    face_to_face = note.modality in Modality.face_to_face()
    if value is None:
        yield _problem(
            gettext("Rate agitation (BARS 1–7).")
            if face_to_face
            else gettext("Rate agitation (0–10)."),
            means_id("agitation"),
            "agitation",
        )
    elif face_to_face and not 1 <= value <= 7:
        yield _problem(
            gettext("Agitation in an in-person, video or mobile contact is rated on BARS (1–7)."),
            means_id("agitation"),
            "agitation_bars",
        )


def cssrs_complete(note: CrisisSession) -> Iterable[SignProblem]:
    """Rule 2: the screen complete and consistent with its skip logic, or a reason it couldn't
    be done. A follow-up contact that reached the client asks the "since last contact" version."""
    screen = _screen(note)
    answers = screen.answers
    for key, message in cssrs_validate(answers, screen.version).items():
        yield _problem(
            gettext("C-SSRS: %(message)s") % {"message": message},
            screen_id(key),
            "cssrs_inconsistent",
        )
    if not requires(note, R.SCREEN):
        return
    if requires(note, R.SINCE_LAST_CONTACT) and screen.version != CssrsVersion.SINCE_LAST_CONTACT:
        yield _problem(
            gettext("Follow-up contact: ask the C-SSRS “since last contact” version."),
            screen_id("version_1"),
            "cssrs_version",
        )
    if screen.not_done_reason:
        return
    missing = cssrs_missing(answers, screen.version)
    if missing:
        numbers = ", ".join(ITEM_BY_KEY[k].number for k in missing)
        yield _problem(
            gettext(
                "Complete the C-SSRS (unanswered: %(numbers)s), or record why it could not be done."
            )
            % {"numbers": numbers},
            screen_id(missing[0]),
            "cssrs_incomplete",
        )


def formulation_when_any_yes(note: CrisisSession) -> Iterable[SignProblem]:
    """Rule 3: any C-SSRS yes → risk formulation with the clinician's level and rationale."""
    if not requires(note, R.SCREEN) or not cssrs_any_yes(_screen(note).answers):
        return
    formulation = _formulation(note)
    if not formulation.clinician_level:
        yield _problem(
            gettext("A C-SSRS answer is yes: choose your clinician risk level."),
            formulation_id("clinician_level_0"),
            "clinician_level",
        )
    if not formulation.rationale.strip():
        yield _problem(
            gettext("A C-SSRS answer is yes: write the rationale for your risk level."),
            formulation_id("rationale"),
            "rationale",
        )


def override_reason_given(note: CrisisSession) -> Iterable[SignProblem]:
    """Rule 4: clinician level below the screen's → an override reason (and a co-sign, below)."""
    formulation = _formulation(note)
    if (
        formulation.clinician_level
        and _rank(formulation.clinician_level) < _rank(_screen(note).risk)
        and not formulation.override_reason.strip()
    ):
        yield _problem(
            gettext("Your risk level is below the screen's: give the reason for the override."),
            formulation_id("override_reason"),
            "override_reason",
        )


def plan_and_means_when_moderate(note: CrisisSession) -> Iterable[SignProblem]:
    """Rule 5: moderate or high → an active safety plan and the means-safety questions answered,
    or a coded reason for each (refused, transferred to the ED, call disconnected...). A
    third-party call needs no client safety plan (the person at risk is not on the line)."""
    if _rank(governing_level(note)) < _rank(RiskLevel.MODERATE):
        return
    formulation = _formulation(note)
    if requires(note, R.SAFETY_PLAN) and not formulation.plan_not_done_reason:
        plan = plan_in_force(note=note)
        if plan is None or not plan.is_active:
            yield _problem(
                gettext(
                    "Moderate or high risk: create or review the client's safety plan "
                    "(steps 1, 2, 5 and 6 need at least one entry), or record why not."
                ),
                PLAN_ANCHOR,
                "safety_plan",
            )
    means = _means(note)
    if not requires(note, R.MEANS) or means.means_not_done_reason:
        return
    for name, message in (
        (
            "firearms",
            gettext_lazy(
                "Moderate or high risk: ask about access to firearms (or record why the means "
                "questions were not completed)."
            ),
        ),
        (
            "medications",
            gettext_lazy(
                "Moderate or high risk: ask about access to lethal medications (or record why "
                "the means questions were not completed)."
            ),
        ),
        (
            "other_means",
            gettext_lazy(
                "Moderate or high risk: ask about access to other lethal means (or record why "
                "the means questions were not completed)."
            ),
        ),
    ):
        if not getattr(means, name):
            yield _problem(
                str(message),
                means_id(f"{name}_0"),  # radios: the first one takes the focus
                f"means_{name}",
            )
    has_access = MeansAccess.YES in (means.firearms, means.medications, means.other_means)
    if has_access and not means.means_safety_notes.strip():
        yield _problem(
            gettext("The client has access to lethal means: record the means-safety counselling."),
            means_id("means_safety_notes"),
            "means_safety_notes",
        )


def _task_due_within(note: CrisisSession, hours: int) -> bool:
    ended = note.ended_at or timezone.now()
    return FollowUpTask.objects.filter(
        session=note, due_at__lte=ended + timedelta(hours=hours)
    ).exists()


def _urgent(note: CrisisSession) -> bool:
    """High or imminent risk, or a hang-up / silent call with intent stated or moderate-or-higher
    risk before it ended (CLINICAL.md §11)."""
    formulation = _formulation(note)
    return is_high_risk(
        clinician=formulation.clinician_level,
        screen=_screen(note).risk,
        imminent=formulation.imminent,
    ) or urgent_after_disconnect(note, governing_level(note))


def high_risk_actions(note: CrisisSession) -> Iterable[SignProblem]:
    """Rule 6: high or imminent (or a hang-up with intent stated) → supervisor notified (who,
    when, response) or a coded reason; a disposition other than "stabilised at home" or a
    rationale; a follow-up task due within the high-risk window or a coded reason (e.g. no
    contact information)."""
    if not requires(note, R.RISK_ACTIONS) or not _urgent(note):
        return
    formulation = _formulation(note)
    notified = SupervisorNotification.objects.filter(session=note).exclude(response="")
    if (
        not formulation.supervisor_not_done_reason
        and not notified.filter(responded_at__isnull=False).exists()
    ):
        yield _problem(
            gettext(
                "High or imminent risk: notify your supervisor and record their response "
                "(or record why there is none)."
            ),
            SUPERVISOR_ANCHOR,
            "supervisor_notified",
        )
    follow_up = note.follow_up
    if (
        requires(note, R.DISPOSITION)
        and follow_up.disposition == Disposition.STABILISED
        and not follow_up.disposition_rationale.strip()
    ):
        yield _problem(
            gettext(
                "High or imminent risk with the client stabilised at home: write the rationale "
                "for that disposition."
            ),
            "id_follow_up-disposition_rationale",
            "disposition_rationale",
            section=FOLLOW_UP,
        )
    hours = note.clinic.followup_due_hours_high
    if not follow_up.task_not_done_reason and not _task_due_within(note, hours):
        yield _problem(
            gettext(
                "High or imminent risk: add a follow-up task due within %(hours)s hours of the "
                "session's end (or record why there is none)."
            )
            % {"hours": hours},
            TASKS_ANCHOR,
            "followup_task_high",
            section=FOLLOW_UP,
        )


def moderate_followup(note: CrisisSession) -> Iterable[SignProblem]:
    """Rule 7: moderate → a follow-up task due within the clinic's moderate window, or a coded
    reason. (Crisis numbers given, for every level, is checked by the follow-up section.)"""
    if not requires(note, R.RISK_ACTIONS) or _urgent(note):
        return
    if governing_level(note) != RiskLevel.MODERATE or note.follow_up.task_not_done_reason:
        return
    hours = note.clinic.followup_due_hours_moderate
    if not _task_due_within(note, hours):
        yield _problem(
            gettext(
                "Moderate risk: add a follow-up task due within %(hours)s hours of the session's "
                "end (or record why there is none)."
            )
            % {"hours": hours},
            TASKS_ANCHOR,
            "followup_task_moderate",
            section=FOLLOW_UP,
        )


def duty_to_warn(note: CrisisSession) -> Iterable[SignProblem]:
    """Rule 8: homicidal ideation present or an identifiable target → a duty-to-warn disclosure,
    or "not indicated" with the rationale and who was consulted."""
    formulation = _formulation(note)
    if not (
        formulation.homicidal_ideation == HomicidalIdeation.PRESENT
        or formulation.identifiable_target
    ):
        return
    if Disclosure.objects.filter(session=note, type=DisclosureType.DUTY_TO_WARN).exists():
        return
    if not formulation.duty_to_warn_not_indicated_rationale.strip():
        yield _problem(
            gettext(
                "Homicidal ideation or an identifiable target: record a duty-to-warn disclosure, "
                "or why a warning is not indicated."
            ),
            formulation_id("duty_to_warn_not_indicated_rationale"),
            "duty_to_warn",
        )
    if not formulation.duty_to_warn_consulted_with.strip():
        yield _problem(
            gettext("Duty to warn not indicated: say who you consulted."),
            formulation_id("duty_to_warn_consulted_with"),
            "duty_to_warn_consulted",
        )


def abuse_disclosure(note: CrisisSession) -> Iterable[SignProblem]:
    """Rule 9: abuse disclosed → a disclosure row (mandated report), or a rationale."""
    formulation = _formulation(note)
    if not formulation.abuse_disclosed:
        return
    if Disclosure.objects.filter(session=note, type__in=ABUSE_TYPES).exists():
        return
    if not formulation.abuse_rationale.strip():
        yield _problem(
            gettext(
                "Abuse was disclosed: record the report as a disclosure, or the rationale for not "
                "reporting."
            ),
            formulation_id("abuse_rationale"),
            "abuse_report",
        )


def clinician_below_screen(note: CrisisSession) -> str | None:
    formulation = _formulation(note)
    if formulation.clinician_level and _rank(formulation.clinician_level) < _rank(
        _screen(note).risk
    ):
        return "Clinician risk level below the screen's: needs a supervisor's co-signature"
    return None


@dataclass(frozen=True)
class CodedReason:
    """A required action recorded as not done: what, the reason's label, the free text."""

    what: str
    label: str
    text: str

    @property
    def why(self) -> str:
        return f"{self.label} — {self.text}" if self.text else self.label


def coded_reasons(note: CrisisSession) -> list[CodedReason]:
    """Every required action recorded as not done, with its coded reason (CLINICAL.md §9.5).
    Shown on the note, the PDF and (labels only) the supervisor's review queue."""
    screen, formulation, means = _screen(note), _formulation(note), _means(note)
    follow_up = note.follow_up
    found = [
        (gettext("C-SSRS screen"), screen.not_done_reason, screen.not_done_text),
        (gettext("Means-safety questions"), means.means_not_done_reason, means.means_not_done_text),
        (gettext("Safety plan"), formulation.plan_not_done_reason, formulation.plan_not_done_text),
        (
            gettext("Supervisor response"),
            formulation.supervisor_not_done_reason,
            formulation.supervisor_not_done_text,
        ),
        (gettext("Follow-up task"), follow_up.task_not_done_reason, follow_up.task_not_done_text),
    ]
    return [
        CodedReason(what, reason_text(code, ""), text.strip()) for what, code, text in found if code
    ]


def high_risk_with_reasons(note: CrisisSession) -> str | None:
    """CLINICAL.md §9.5: a high-risk note signed with a coded reason instead of a required action
    goes to a supervisor's co-signature. The text names each action and its reason's label (the
    free text is on the note: the reason column is short)."""
    if not _urgent(note):
        return None
    # Stored on the note as part of the record: in English, whoever signs (docs/i18n.md).
    with translation.override("en"):
        reasons = coded_reasons(note)
        if not reasons:
            return None
        return "High risk signed with reasons instead of: " + "; ".join(
            f"{r.what} ({r.label})" for r in reasons
        )


RULES = (
    agitation_rated,
    cssrs_complete,
    formulation_when_any_yes,
    override_reason_given,
    plan_and_means_when_moderate,
    high_risk_actions,
    moderate_followup,
    duty_to_warn,
    abuse_disclosure,
)

COSIGN_REASONS = (clinician_below_screen, high_risk_with_reasons)
