"""The session note and its stage rows.

A note is a draft until signed. Signed notes and every stage row of a note that is not a draft are
immutable: the services refuse, and triggers installed by migration (crisisnotes.db.ProtectRows)
reject UPDATE/DELETE, and any INSERT of a row into such a note, at the database, whatever code
path tries. Corrections are Addenda.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from crisisnotes.choices import ChoiceLabelsMixin
from crisisnotes.validators import (
    QUICK_NOTE,
    AtMostCheckConstraint,
    LimitedTextField,
    SafeCharField,
    SafeJSONField,
)
from sessions.models.followups import FollowUpOutcome
from sessions.risk import RiskLevel, governing_risk, is_high_risk


class Modality(models.TextChoices):
    PHONE = "phone", gettext_lazy("Phone")
    TEXT = "text", pgettext_lazy("contact by", "Text")
    CHAT = "chat", gettext_lazy("Chat")
    VIDEO = "video", gettext_lazy("Video")
    IN_PERSON = "in_person", gettext_lazy("In person")
    MOBILE = "mobile", gettext_lazy("Mobile crisis")

    @classmethod
    def face_to_face(cls) -> set[str]:
        """Contacts where agitation is rated on BARS (1–7); the others use a 0–10 rating."""
        return {cls.VIDEO, cls.IN_PERSON, cls.MOBILE}


class NoteStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("note status", "Draft")
    AWAITING_COSIGN = "awaiting_cosign", pgettext_lazy("note status", "Awaiting co-sign")
    SIGNED = "signed", pgettext_lazy("note status", "Signed")


class Disposition(models.TextChoices):
    STABILISED = "stabilised_home", gettext_lazy("Stabilised at home")
    MOBILE_CRISIS = "mobile_crisis", gettext_lazy("Mobile crisis team")
    ED = "emergency_department", gettext_lazy("Emergency department")
    EMERGENCY_SERVICES = "emergency_services", gettext_lazy("Emergency services")
    ACTIVE_RESCUE = "active_rescue", gettext_lazy("Active rescue")
    OTHER = "other", gettext_lazy("Other")


class ContactType(models.TextChoices):
    """What kind of contact the note records (CLINICAL.md §11). The sign rules that apply depend
    on it: sessions/contact_types.py holds the table, docs/contact-types.md explains it."""

    FULL = "full_session", gettext_lazy("Full session")
    DISCONNECTED = "disconnected", gettext_lazy("Disconnected / hung up")
    SILENT = "silent", gettext_lazy("Silent call")
    WRONG_NUMBER = "wrong_number", gettext_lazy("Wrong number / prank / non-crisis")
    THIRD_PARTY = "third_party", gettext_lazy("Third-party caller")
    FOLLOW_UP = "follow_up", gettext_lazy("Follow-up contact")


class ReasonCode(models.TextChoices):
    """Why a required action was not done (CLINICAL.md §9.5): every rule that requires an action
    accepts one of these (plus free text) instead, so the record never forces a counselor to
    write what did not happen. "hung_up" and "intoxicated" keep the values the C-SSRS reasons
    were first stored with."""

    REFUSED = "refused", gettext_lazy("Client refused")
    TRANSFERRED_ED = "transferred_ed", gettext_lazy("Transferred to emergency department")
    EMERGENCY_SERVICES = (
        "emergency_services",
        gettext_lazy("Emergency services dispatched / took over"),
    )
    DISCONNECTED = "hung_up", gettext_lazy("Call disconnected")
    INTOXICATED = "intoxicated", gettext_lazy("Client unable — intoxicated")
    PSYCHOTIC = "psychotic", gettext_lazy("Client unable — psychotic")
    NO_CONTACT_INFO = "no_contact_info", gettext_lazy("No contact information")
    OTHER = "other", gettext_lazy("Other")


class PersonPresent(models.TextChoices):
    YES = "yes", gettext_lazy("Yes")
    NO = "no", gettext_lazy("No")
    UNKNOWN = "unknown", gettext_lazy("Unknown")


# Every field a contact type documents (the header of the content hash, after the basics).
CONTACT_DETAIL_FIELDS = (
    "contact_summary",
    "intent_stated",
    "after_disconnect",
    "caller_relationship",
    "caller_name",
    "caller_contact",
    "person_present",
    "caller_advice",
    "answers_task",
    "followup_outcome",
)


class CrisisSession(ChoiceLabelsMixin, models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(
        "crisis_sessions.Client", on_delete=models.PROTECT, related_name="sessions"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="authored_sessions"
    )
    modality = models.CharField(max_length=20, choices=Modality.choices)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    confidentiality_explained = models.BooleanField(
        default=False, verbose_name=gettext_lazy("Limits of confidentiality explained")
    )
    # The contact type and what each type documents (CLINICAL.md §11). Part of the signed
    # content (the header of the content hash).
    contact_type = models.CharField(
        max_length=20, choices=ContactType.choices, default=ContactType.FULL
    )
    contact_summary = LimitedTextField(
        blank=True,
        verbose_name=gettext_lazy("What happened"),
        help_text=gettext_lazy(
            "Hang-up: what happened before the call ended. Silent: what you did (invited "
            "to speak, gave crisis numbers) and anything you heard. Wrong number: one line."
        ),
    )
    intent_stated = models.BooleanField(
        default=False,
        verbose_name=gettext_lazy("Intent stated or danger heard before the call ended"),
    )
    after_disconnect = LimitedTextField(
        blank=True,
        verbose_name=gettext_lazy("Actions after the call ended"),
        help_text=gettext_lazy(
            "Call-back attempts with times; emergency dispatch or not, with the rationale."
        ),
    )
    caller_relationship = SafeCharField(
        max_length=100,
        blank=True,
        verbose_name=gettext_lazy("Caller's relationship to the person at risk"),
    )
    caller_name = SafeCharField(
        max_length=200, blank=True, verbose_name=gettext_lazy("Caller's name")
    )
    caller_contact = SafeCharField(
        max_length=200, blank=True, verbose_name=gettext_lazy("Caller's contact")
    )
    person_present = models.CharField(
        max_length=10,
        choices=PersonPresent.choices,
        blank=True,
        verbose_name=gettext_lazy("Person at risk present with the caller"),
    )
    caller_advice = LimitedTextField(
        blank=True, verbose_name=gettext_lazy("What the caller was advised (and the numbers given)")
    )
    answers_task = models.ForeignKey(
        "crisis_sessions.FollowUpTask",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contacts",
        verbose_name=gettext_lazy("Follow-up task this contact answers"),
    )
    followup_outcome = models.CharField(
        max_length=30,
        choices=FollowUpOutcome.choices,
        blank=True,
        verbose_name=gettext_lazy("Outcome of the follow-up contact"),
    )
    status = models.CharField(
        max_length=20, choices=NoteStatus.choices, default=NoteStatus.DRAFT, db_index=True
    )
    # Risk as the safety stage determined it, kept on the note by the safety app's services (in
    # the same transaction as the screen or formulation) so that queues, dashboards, timelines
    # and trends read one row instead of reaching into the safety app.
    screen_risk = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True)
    clinician_risk = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True)
    imminent = models.BooleanField(default=False)
    # When the author first asked their supervisor to consult on this contact (the safety app's
    # "Notify supervisor" sets it in the same transaction): the live board and the supervision
    # read rule (sessions.policies) read it here instead of reaching into the safety app.
    consult_requested_at = models.DateTimeField(null=True, blank=True)
    # Optimistic lock: every save of the draft must name the version it was based on, and bumps
    # it; a save based on an older version is a conflict, never a silent overwrite.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Signature: what the signer was qualified as at the time, copied, not linked.
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signer_name = models.CharField(max_length=200, blank=True)
    signer_credential = models.CharField(max_length=100, blank=True)
    signer_licence = models.CharField(max_length=100, blank=True)
    content_hash = models.CharField(max_length=64, blank=True)
    late_entry = models.BooleanField(default=False)

    # Co-signature (trainee authors, clinician-level overrides, clinic policy).
    cosign_required_reason = models.CharField(max_length=300, blank=True)
    cosigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    cosigned_at = models.DateTimeField(null=True, blank=True)
    cosigner_name = models.CharField(max_length=200, blank=True)
    cosigner_credential = models.CharField(max_length=100, blank=True)
    cosigner_licence = models.CharField(max_length=100, blank=True)
    cosign_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["clinic", "status", "-started_at"]),
            models.Index(fields=["author", "status"]),
            # A counselor's recent sessions (the team dashboard's week, the team load's
            # period): read by date, not through every session they ever wrote. The columns
            # the team page counts from are included, so its reads of a team's last 30 days
            # (~2,000 rows scattered over ~3,900 heap pages) are index-only scans once VACUUM
            # (autovacuum) has marked the pages all-visible (docs/scaling.md).
            models.Index(
                fields=["author", "started_at", "id"],
                include=[
                    "clinic",
                    "ended_at",
                    "signed_at",
                    "status",
                    "screen_risk",
                    "clinician_risk",
                    "imminent",
                    "cosign_required_reason",
                ],
                name="session_author_period_idx",
            ),
            # The team page's counts of open notes (drafts past the late-entry limit, notes
            # waiting for a co-signature), read by each member of the team: a few hundred
            # entries of this small index, not the clinic's open notes through their heap pages.
            models.Index(
                fields=["author", "status"],
                include=["id", "clinic", "started_at", "ended_at"],
                condition=models.Q(status__in=[NoteStatus.DRAFT, NoteStatus.AWAITING_COSIGN]),
                name="session_author_open_idx",
            ),
            models.Index(fields=["client", "-started_at"]),
            # The review queue, oldest signature first (the queue page, the team page's first
            # five): a few thousand rows in signature order, not a sort of every awaiting note.
            models.Index(
                fields=["clinic", "signed_at", "id"],
                condition=models.Q(status=NoteStatus.AWAITING_COSIGN),
                name="session_awaiting_signed_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Session {self.pk} with {self.client_id} on {self.started_at:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("crisis_sessions:note_detail", kwargs={"note_id": self.pk})

    @property
    def risk_level(self) -> str:
        """The level that governs the note (sessions.risk, beside its SQL twin)."""
        return governing_risk(clinician=self.clinician_risk, screen=self.screen_risk)

    @property
    def is_high_risk(self) -> bool:
        """High or imminent (sessions.risk, beside its SQL twin)."""
        return is_high_risk(
            clinician=self.clinician_risk, screen=self.screen_risk, imminent=self.imminent
        )

    @property
    def client_reached(self) -> bool:
        """A follow-up contact reached the client; every other type but wrong number, silent
        and hang-up speaks with someone by definition."""
        return self.followup_outcome in (
            FollowUpOutcome.REACHED_SAFE,
            FollowUpOutcome.REACHED_NEEDS_HELP,
        )

    def contact_details(self) -> list[tuple[str, str]]:
        """The contact type and what it documents, as (label, text) rows for the read-only note,
        the review page and the PDF."""
        rows = [(_("Contact type"), self.get_contact_type_display())]
        field_names: tuple[str, ...] = {
            ContactType.DISCONNECTED: ("contact_summary", "intent_stated", "after_disconnect"),
            ContactType.SILENT: ("contact_summary", "intent_stated", "after_disconnect"),
            ContactType.WRONG_NUMBER: ("contact_summary",),
            ContactType.THIRD_PARTY: (
                "caller_relationship",
                "caller_name",
                "caller_contact",
                "person_present",
                "caller_advice",
            ),
            ContactType.FOLLOW_UP: ("answers_task", "followup_outcome"),
        }.get(ContactType(self.contact_type), ())
        if self.contact_type == ContactType.THIRD_PARTY:
            rows.append((_("Person at risk"), self.client.alias))
        for name in field_names:
            field = self._meta.get_field(name)
            value = getattr(self, name)
            if isinstance(value, bool):
                text = _("Yes") if value else _("No")
            elif name in ("person_present", "followup_outcome"):
                text = getattr(self, f"get_{name}_display")()
            else:
                text = str(value or "")
            if name == "contact_summary" and self.contact_type == ContactType.WRONG_NUMBER:
                label = _("Summary")
            else:
                label = str(getattr(field, "verbose_name", name))
            rows.append((label[:1].upper() + label[1:], text))
        # What was recorded under another type before the type changed (changing type drops
        # nothing typed) is still signed content: print it too, so the record shows all of it.
        for name in CONTACT_DETAIL_FIELDS:
            value = getattr(self, name)
            if name in field_names or value in ("", None, False):
                continue
            field = self._meta.get_field(name)
            if isinstance(value, bool):
                text = _("Yes")
            elif name in ("person_present", "followup_outcome"):
                text = getattr(self, f"get_{name}_display")()
            else:
                text = str(value)
            label = str(getattr(field, "verbose_name", name))
            rows.append(
                (_("%(label)s (recorded earlier)") % {"label": label[:1].upper() + label[1:]}, text)
            )
        return rows

    @property
    def is_draft(self) -> bool:
        return self.status == NoteStatus.DRAFT

    @property
    def is_locked(self) -> bool:
        return self.status != NoteStatus.DRAFT


class Stage(models.Model):
    """A stage row: one per note, created with the note, editable only while the note is a draft."""

    session = models.OneToOneField(
        CrisisSession, on_delete=models.PROTECT, primary_key=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class ExplorationStage(Stage):
    session = models.OneToOneField(
        CrisisSession, on_delete=models.PROTECT, primary_key=True, related_name="exploration"
    )
    precipitating_event = LimitedTextField(blank=True)
    perceived_meaning = LimitedTextField(
        blank=True, verbose_name=gettext_lazy("Client's perceived meaning")
    )
    perceived_cause = LimitedTextField(
        blank=True, verbose_name=gettext_lazy("Client's perceived cause")
    )
    suds_start = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=gettext_lazy("SUDS at start")
    )
    suds_end = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=gettext_lazy("SUDS at end")
    )
    suds_not_obtained_reason = SafeCharField(max_length=300, blank=True)
    affect = SafeJSONField(default=list, blank=True)
    affect_notes = LimitedTextField(blank=True)
    deescalation = SafeJSONField(
        default=list, blank=True, verbose_name=gettext_lazy("De-escalation used")
    )
    deescalation_notes = LimitedTextField(blank=True)

    class Meta:
        constraints = [
            AtMostCheckConstraint(field="suds_start", limit=10, name="suds_start_0_10"),
            AtMostCheckConstraint(field="suds_end", limit=10, name="suds_end_0_10"),
        ]

    def __str__(self) -> str:
        return f"Exploration of session {self.session_id}"


class RapportStage(Stage):
    session = models.OneToOneField(
        CrisisSession, on_delete=models.PROTECT, primary_key=True, related_name="rapport"
    )
    engagement_notes = LimitedTextField(blank=True)
    validation_notes = LimitedTextField(blank=True)
    practical_guidance = LimitedTextField(blank=True)
    # A snapshot of what was given ([{"category", "name", "contact"}]): the record keeps what the
    # client was told even if the clinic's directory changes later.
    resources_given = SafeJSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"Rapport of session {self.session_id}"


class ProblemSolvingStage(Stage):
    session = models.OneToOneField(
        CrisisSession, on_delete=models.PROTECT, primary_key=True, related_name="problem_solving"
    )
    cognitive_errors = SafeJSONField(default=list, blank=True)
    reframes = LimitedTextField(blank=True, verbose_name=gettext_lazy("Reframes offered"))
    coping_tried = LimitedTextField(
        blank=True, verbose_name=gettext_lazy("Coping already tried, and how it went")
    )
    alternatives = LimitedTextField(blank=True, verbose_name=gettext_lazy("Alternative strategies"))
    action_plan = LimitedTextField(blank=True)
    modality_used = SafeJSONField(default=list, blank=True)
    interventions = LimitedTextField(blank=True, verbose_name=gettext_lazy("Interventions used"))

    def __str__(self) -> str:
        return f"Problem-solving of session {self.session_id}"


class FollowUpStage(ChoiceLabelsMixin, Stage):
    session = models.OneToOneField(
        CrisisSession, on_delete=models.PROTECT, primary_key=True, related_name="follow_up"
    )
    supports = LimitedTextField(blank=True, verbose_name=gettext_lazy("Supports and resources"))
    triggers = LimitedTextField(
        blank=True, verbose_name=gettext_lazy("Triggers for suicidal thoughts")
    )
    # [{"to", "urgency", "made", "accepted"}]
    referrals = SafeJSONField(default=list, blank=True)
    followup_plan = LimitedTextField(blank=True, verbose_name=gettext_lazy("Follow-up plan"))
    crisis_numbers_given = models.BooleanField(default=False)
    disposition = models.CharField(max_length=30, choices=Disposition.choices, blank=True)
    disposition_other = SafeCharField(max_length=300, blank=True)
    disposition_rationale = LimitedTextField(blank=True)
    # The honest way out of "add a follow-up task" (CLINICAL.md §9.5).
    task_not_done_reason = models.CharField(
        max_length=20,
        choices=ReasonCode.choices,
        blank=True,
        verbose_name=gettext_lazy("No follow-up task because"),
    )
    task_not_done_text = SafeCharField(
        max_length=300, blank=True, verbose_name=gettext_lazy("Details (no follow-up task)")
    )

    def __str__(self) -> str:
        return f"Follow-up of session {self.session_id}"


class QuickNote(models.Model):
    """A line typed during the call, timestamped, shown beside the stages to be moved into fields
    later. Part of the record: frozen with the note."""

    session = models.ForeignKey(CrisisSession, on_delete=models.PROTECT, related_name="quick_notes")
    created_at = models.DateTimeField(auto_now_add=True)
    text = LimitedTextField(max_length=QUICK_NOTE)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return self.text[:60]


class AddendumKind(models.TextChoices):
    ADDENDUM = "addendum", gettext_lazy("Addendum")
    CORRECTION = "correction", gettext_lazy("Correction")
    LATE_ENTRY = "late_entry", gettext_lazy("Late entry")
    ENTERED_IN_ERROR = "entered_in_error", gettext_lazy("Entered in error")


class Addendum(ChoiceLabelsMixin, models.Model):
    """Append-only: a trigger rejects every UPDATE and DELETE."""

    session = models.ForeignKey(CrisisSession, on_delete=models.PROTECT, related_name="addenda")
    kind = models.CharField(max_length=20, choices=AddendumKind.choices)
    text = LimitedTextField()
    reason = LimitedTextField()
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    author_name = models.CharField(max_length=200)
    author_credential = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to session {self.session_id}"


class ProcessNote(models.Model):
    """A counselor's private process note on one of their sessions (CLINICAL.md §10): NOT part of
    the record — visible only to its author, never exported, never in the content hash, never
    required, and editable after signing because it is not the signed record."""

    session = models.OneToOneField(
        CrisisSession, on_delete=models.PROTECT, related_name="process_note"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    text = LimitedTextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Private process note on session {self.session_id}"


class NoteHandoff(models.Model):
    """A shift handoff: the draft's author changed from one counselor to another. Both names
    (copied, as they were) and the time stay on the record; rows are frozen with the note."""

    session = models.ForeignKey(CrisisSession, on_delete=models.PROTECT, related_name="handoffs")
    from_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    from_name = SafeCharField(max_length=200)
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    to_name = SafeCharField(max_length=200)
    handed_at = models.DateTimeField()

    class Meta:
        ordering = ["handed_at", "id"]

    def __str__(self) -> str:
        return f"Handed from {self.from_name} to {self.to_name} at {self.handed_at:%Y-%m-%d %H:%M}"
