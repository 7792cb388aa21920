"""The sessions app's own sign rules that belong to no stage (the note's header: times,
modality, confidentiality and what each contact type documents about itself, CLINICAL.md §9.1
and §11) and its co-sign reasons (a trainee author, §9.10; the clinic's "every high-risk note is
co-signed" policy). Plain code the signing service calls; each stage's rules live on its section
(sessions/sections.py, safety/sections.py)."""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext as _

from sessions.contact_types import Requirement as R
from sessions.contact_types import requires
from sessions.models import CrisisSession
from sessions.models.notes import ContactType
from sessions.registry import SignProblem
from sessions.sections import HEADER, header_field_id


def header_problems(note: CrisisSession) -> list[SignProblem]:
    """Every unmet rule of the note's header."""
    return [*header_complete(note), *contact_documented(note)]


def cosign_reasons(note: CrisisSession) -> list[str]:
    """This app's reasons to send a signed note to a supervisor's co-signature."""
    return [r for reason in (clinic_policy_high_risk, author_is_trainee) if (r := reason(note))]


def _problem(message: str, section: str, field_id: str, code: str) -> SignProblem:
    return SignProblem(message=message, section=section, field_id=field_id, code=code)


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


def clinic_policy_high_risk(note: CrisisSession) -> str | None:
    if not note.clinic.cosign_all_high_risk:
        return None
    if note.is_high_risk:
        return "Clinic policy: every high-risk note is co-signed by a supervisor."
    return None


def author_is_trainee(note: CrisisSession) -> str | None:
    return "Author is a trainee" if note.author.is_trainee else None
