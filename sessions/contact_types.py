"""Which sign-time requirements apply to which contact type (CLINICAL.md §11).

The table is the one home of "does this rule apply to this note?": every sign rule (this app's in
sessions/sections.py, the safety app's in safety/rules.py) asks `requires(note, ...)` before it
checks anything, and each rule keeps its own home. docs/contact-types.md explains each row.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from sessions.models.notes import ContactType, ReasonCode, RiskLevel

if TYPE_CHECKING:
    from sessions.models import CrisisSession


class Requirement(StrEnum):
    # spoke with the client or the caller
    CONFIDENTIALITY = "confidentiality"  # limits of confidentiality explained
    CRISIS_NUMBERS = "crisis_numbers"  # crisis numbers given
    # what the type itself documents
    SUMMARY = "summary"  # what happened / what you did / one line
    AFTER_DISCONNECT = "after_disconnect"  # call-back attempts, dispatch decision
    CALLER = "caller"  # relationship, person present, what the caller was advised
    ANSWERED_TASK = "answered_task"  # the follow-up task it answers, and the outcome
    # the full session's stages
    EXPLORATION = "exploration"  # precipitating event, SUDS start/end
    INTERVENTIONS = "interventions"
    DISPOSITION = "disposition"  # disposition and follow-up plan
    AGITATION = "agitation"
    # the safety chain (CLINICAL.md §9.2–9.9), as far as the contact reached
    SCREEN = "screen"  # C-SSRS complete or a reason; formulation on any yes
    SINCE_LAST_CONTACT = "since_last_contact"  # the screen asked in that version
    SAFETY_PLAN = "safety_plan"  # moderate or high: active plan or a reason
    MEANS = "means"  # moderate or high: means questions or a reason
    RISK_ACTIONS = "risk_actions"  # supervisor, follow-up task by risk level


R = Requirement
_SAFETY_CHAIN = frozenset({R.SCREEN, R.SAFETY_PLAN, R.MEANS, R.RISK_ACTIONS})

# What each type requires. Start/end time and modality are required of every type.
TABLE: dict[str, frozenset[Requirement]] = {
    ContactType.FULL: frozenset(
        {
            R.CONFIDENTIALITY,
            R.CRISIS_NUMBERS,
            R.EXPLORATION,
            R.INTERVENTIONS,
            R.DISPOSITION,
            R.AGITATION,
            *_SAFETY_CHAIN,
        }
    ),
    ContactType.DISCONNECTED: frozenset({R.SUMMARY, R.AFTER_DISCONNECT, *_SAFETY_CHAIN}),
    ContactType.SILENT: frozenset({R.SUMMARY}),
    ContactType.WRONG_NUMBER: frozenset({R.SUMMARY}),
    # No client safety plan (the person at risk is not on the line); the caller is advised.
    ContactType.THIRD_PARTY: frozenset(
        {
            R.CONFIDENTIALITY,
            R.CRISIS_NUMBERS,
            R.CALLER,
            R.SCREEN,
            R.MEANS,
            R.RISK_ACTIONS,
        }
    ),
    # Only the task and its outcome when the client was not reached.
    ContactType.FOLLOW_UP: frozenset({R.ANSWERED_TASK}),
}
# A follow-up contact that reached the client adds these.
FOLLOW_UP_REACHED = frozenset(
    {
        R.CONFIDENTIALITY,
        R.CRISIS_NUMBERS,
        R.AGITATION,
        R.SINCE_LAST_CONTACT,
        *_SAFETY_CHAIN,
    }
)
# A silent call in which danger was heard is handled as a disconnected call with risk.
SILENT_WITH_DANGER = frozenset({R.AFTER_DISCONNECT, R.RISK_ACTIONS})

ENDED_EARLY = (ContactType.DISCONNECTED, ContactType.SILENT)


def requirements(note: CrisisSession) -> frozenset[Requirement]:
    """Every requirement that applies to this note as it stands now."""
    required = TABLE.get(note.contact_type, TABLE[ContactType.FULL])
    if note.contact_type == ContactType.FOLLOW_UP and note.client_reached:
        required = required | FOLLOW_UP_REACHED
    if note.contact_type == ContactType.SILENT and note.intent_stated:
        required = required | SILENT_WITH_DANGER
    return required


def requires(note: CrisisSession, requirement: Requirement) -> bool:
    return requirement in requirements(note)


def urgent_after_disconnect(note: CrisisSession, governing_level: str) -> bool:
    """A hang-up (or a silent call) with moderate or higher risk, or intent stated / danger heard,
    before it ended: call-back or dispatch decision, supervisor notified, follow-up within the
    high-risk window — each with its honest way out (e.g. no contact information)."""
    if note.contact_type not in ENDED_EARLY:
        return False
    return note.intent_stated or RiskLevel.rank(governing_level or "") >= RiskLevel.rank(
        RiskLevel.MODERATE
    )


def reason_text(code: str, text: str) -> str:
    """A coded reason as the record prints it: "Client refused — would not say"."""
    if not code:
        return ""
    label = str(ReasonCode(code).label) if code in ReasonCode.values else code
    return f"{label} — {text.strip()}" if text.strip() else label
