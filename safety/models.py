"""The safety stage of a note (screen, formulation, means and agitation, supervisor notified,
disclosures) and the client's safety plan.

Rows tied to a session are frozen with the note: triggers (migrations 0002, 0003) reject UPDATE,
DELETE and new rows once the note leaves draft. Safety plan versions are immutable always: a
change is a new version, never an overwrite.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crisisnotes.validators import (
    AtMostCheckConstraint,
    LimitedTextField,
    SafeCharField,
    SafeJSONField,
)
from safety.cssrs import ITEM_KEYS, CssrsVersion
from sessions.models.notes import ReasonCode, RiskLevel

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# One vocabulary for every "could not be done" (CLINICAL.md §9.5): the C-SSRS, the means
# questions, the safety plan, the supervisor's response and the follow-up task.
NotDoneReason = ReasonCode


class SafetyScreen(models.Model):
    """The C-SSRS screen of a session: yes/no per item, null where skipped or unanswered."""

    session = models.OneToOneField(
        "crisis_sessions.CrisisSession",
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="safety_screen",
    )
    version = models.CharField(
        max_length=20, choices=CssrsVersion.choices, default=CssrsVersion.RECENT
    )
    q1 = models.BooleanField(null=True, blank=True)
    q2 = models.BooleanField(null=True, blank=True)
    q3 = models.BooleanField(null=True, blank=True)
    q4 = models.BooleanField(null=True, blank=True)
    q5 = models.BooleanField(null=True, blank=True)
    q6 = models.BooleanField(null=True, blank=True)
    q6b = models.BooleanField(null=True, blank=True)
    not_done_reason = models.CharField(
        max_length=20,
        choices=NotDoneReason.choices,
        blank=True,
        verbose_name=_("Could not complete"),
    )
    not_done_text = SafeCharField(max_length=300, blank=True, verbose_name=_("Details"))
    risk = models.CharField(max_length=10, choices=RiskLevel.choices, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"C-SSRS of session {self.session_id}"

    @property
    def answers(self) -> dict[str, bool | None]:
        return {key: getattr(self, key) for key in ITEM_KEYS}


class HomicidalIdeation(models.TextChoices):
    NONE = "none", _("None")
    PRESENT = "present", _("Present")
    NOT_ASSESSED = "not_assessed", _("Not assessed")


class RiskFormulation(models.Model):
    """SAFE-T formulation (CLINICAL.md §2) and the disclosure decisions that follow from it."""

    session = models.OneToOneField(
        "crisis_sessions.CrisisSession",
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="risk_formulation",
    )
    risk_factors = SafeJSONField(default=list, blank=True)
    risk_factors_other = SafeCharField(max_length=500, blank=True)
    protective_factors = SafeJSONField(default=list, blank=True)
    protective_factors_other = SafeCharField(max_length=500, blank=True)
    ideation_frequency = SafeCharField(max_length=300, blank=True)
    ideation_intensity = SafeCharField(max_length=300, blank=True)
    plan_details = LimitedTextField(
        blank=True, help_text=_("Timing, location, lethality, availability, preparatory acts.")
    )
    intent = LimitedTextField(blank=True)
    reasons_to_die = LimitedTextField(blank=True)
    reasons_to_live = LimitedTextField(blank=True)
    homicidal_ideation = models.CharField(
        max_length=20, choices=HomicidalIdeation.choices, blank=True
    )
    identifiable_target = models.BooleanField(default=False)
    target_description = SafeCharField(max_length=300, blank=True)
    clinician_level = models.CharField(
        max_length=10,
        choices=[c for c in RiskLevel.choices if c[0] != RiskLevel.NONE],
        blank=True,
        verbose_name=_("Clinician risk level"),
    )
    imminent = models.BooleanField(default=False, verbose_name=_("Imminent risk"))
    rationale = LimitedTextField(blank=True)
    # The honest ways out of "safety plan" and "supervisor's response" (CLINICAL.md §9.5).
    plan_not_done_reason = models.CharField(
        max_length=20,
        choices=ReasonCode.choices,
        blank=True,
        verbose_name=_("No safety plan because"),
    )
    plan_not_done_text = SafeCharField(
        max_length=300, blank=True, verbose_name=_("Details (no safety plan)")
    )
    supervisor_not_done_reason = models.CharField(
        max_length=20,
        choices=ReasonCode.choices,
        blank=True,
        verbose_name=_("No supervisor response because"),
    )
    supervisor_not_done_text = SafeCharField(
        max_length=300, blank=True, verbose_name=_("Details (no supervisor response)")
    )
    override_reason = LimitedTextField(
        blank=True, help_text=_("Required when your level is below the screen's.")
    )
    duty_to_warn_not_indicated_rationale = LimitedTextField(
        blank=True, verbose_name=_("Duty to warn not indicated: rationale")
    )
    duty_to_warn_consulted_with = SafeCharField(
        max_length=300, blank=True, verbose_name=_("Consulted with")
    )
    abuse_disclosed = models.BooleanField(
        default=False, verbose_name=_("Abuse or neglect disclosed")
    )
    abuse_rationale = LimitedTextField(blank=True, verbose_name=_("No report made: rationale"))
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Risk formulation of session {self.session_id}"


class Presence(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("Unknown")


class MeansAccess(models.TextChoices):
    YES = "yes", _("Yes")
    NO = "no", _("No")
    UNKNOWN = "unknown", _("Unknown")
    DECLINED = "declined", _("Declined to answer")


MeansNotDoneReason = ReasonCode


class MeansSafety(models.Model):
    """Agitation, intoxication, access to means and lethality of a session."""

    session = models.OneToOneField(
        "crisis_sessions.CrisisSession",
        on_delete=models.PROTECT,
        primary_key=True,
        related_name="means_safety",
    )
    agitation = models.PositiveSmallIntegerField(null=True, blank=True)
    intoxication = models.CharField(max_length=10, choices=Presence.choices, blank=True)
    substance = SafeCharField(max_length=200, blank=True)
    firearms = models.CharField(
        max_length=10, choices=MeansAccess.choices, blank=True, verbose_name=_("Access to firearms")
    )
    medications = models.CharField(
        max_length=10,
        choices=MeansAccess.choices,
        blank=True,
        verbose_name=_("Access to lethal medications"),
    )
    other_means = models.CharField(
        max_length=10,
        choices=MeansAccess.choices,
        blank=True,
        verbose_name=_("Access to other lethal means"),
    )
    other_means_text = SafeCharField(max_length=300, blank=True, verbose_name=_("Which means"))
    means_safety_notes = LimitedTextField(
        blank=True, verbose_name=_("Means safety counselling and agreements")
    )
    means_not_done_reason = models.CharField(
        max_length=20,
        choices=ReasonCode.choices,
        blank=True,
        verbose_name=_("Means questions not completed because"),
    )
    means_not_done_text = SafeCharField(
        max_length=300, blank=True, verbose_name=_("Details (means questions)")
    )
    lethality_notes = LimitedTextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = _("means safety")
        constraints = [
            AtMostCheckConstraint(field="agitation", limit=10, name="agitation_at_most_10")
        ]

    def __str__(self) -> str:
        return f"Means safety of session {self.session_id}"


class NotifyMethod(models.TextChoices):
    IN_APP = "in_app", _("In-app notification")
    PHONE = "phone", _("Phone")
    IN_PERSON = "in_person", _("In person")
    TEXT = "text", _("Text message")
    OTHER = "other", _("Other")


class SupervisorNotification(models.Model):
    """A supervisor told of a high-risk session while it happens: who, when, how, and their
    response (filled by the supervisor acknowledging in the app, or recorded by the counselor)."""

    session = models.ForeignKey(
        "crisis_sessions.CrisisSession",
        on_delete=models.PROTECT,
        related_name="supervisor_notifications",
    )
    supervisor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    supervisor_name = models.CharField(max_length=200)
    notified_at = models.DateTimeField()
    method = models.CharField(max_length=20, choices=NotifyMethod.choices)
    response = LimitedTextField(blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["notified_at", "id"]

    def __str__(self) -> str:
        return f"{self.supervisor_name} notified at {self.notified_at:%Y-%m-%d %H:%M}"

    @property
    def is_complete(self) -> bool:
        return bool(self.response.strip()) and self.responded_at is not None


class PlanStep(models.TextChoices):
    """Stanley-Brown steps, in order; entries of steps 3–5 have a name and a phone."""

    WARNING_SIGNS = "warning_signs", _("Step 1: Warning signs")
    COPING = "coping", _("Step 2: Internal coping strategies")
    DISTRACTION = "distraction", _("Step 3: People and social settings that provide distraction")
    HELP = "help", _("Step 4: People whom I can ask for help")
    PROFESSIONALS = (
        "professionals",
        _("Step 5: Professionals or agencies I can contact in a crisis"),
    )
    ENVIRONMENT = "environment", _("Step 6: Making the environment safe")


CONTACT_STEPS = (PlanStep.DISTRACTION, PlanStep.HELP, PlanStep.PROFESSIONALS)
REQUIRED_STEPS = (
    PlanStep.WARNING_SIGNS,
    PlanStep.COPING,
    PlanStep.PROFESSIONALS,
    PlanStep.ENVIRONMENT,
)


class SafetyPlanVersion(models.Model):
    """One version of a client's safety plan. Immutable (a trigger rejects UPDATE and DELETE):
    saving a change creates version n+1; the client's current plan is the highest number."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(
        "crisis_sessions.Client", on_delete=models.PROTECT, related_name="safety_plan_versions"
    )
    number = models.PositiveIntegerField()
    session = models.ForeignKey(
        "crisis_sessions.CrisisSession",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="safety_plan_versions",
    )
    # {step: [entry, ...]}: entries are strings for steps 1, 2, 6 and {"name", "phone"} for 3–5.
    steps = SafeJSONField(default=dict)
    worth_living_for = LimitedTextField(
        blank=True, verbose_name=_("The one thing most important to me and worth living for")
    )
    likelihood_of_use = models.PositiveSmallIntegerField(
        null=True, blank=True, verbose_name=_("Likelihood of use (0–10)")
    )
    barriers = LimitedTextField(blank=True)
    copy_kept_where = SafeCharField(
        max_length=300, blank=True, verbose_name=_("Where the client keeps the copy")
    )
    copy_given = models.BooleanField(default=False, verbose_name=_("Copy given to the client"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["client", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["client", "number"], name="plan_version_unique"),
            AtMostCheckConstraint(field="likelihood_of_use", limit=10, name="plan_likelihood_0_10"),
        ]

    def __str__(self) -> str:
        return f"Safety plan v{self.number} of client {self.client_id}"

    def entries(self, step: str) -> list[Any]:
        return list(self.steps.get(step, []))

    @property
    def is_active(self) -> bool:
        """Active only when steps 1, 2, 5 and 6 each have at least one entry (CLINICAL.md §7)."""
        return all(self.entries(step) for step in REQUIRED_STEPS)

    @property
    def step_list(self) -> list[tuple[str, StrOrPromise, bool, list[Any]]]:
        """(key, label, has contacts, entries) per step, in order, for templates."""
        return [
            (step.value, step.label, step in CONTACT_STEPS, self.entries(step)) for step in PlanStep
        ]


class DisclosureType(models.TextChoices):
    CHILD_ABUSE = "child_abuse", _("Child abuse")
    ADULT_ABUSE = "adult_abuse", _("Adult abuse or neglect")
    DOMESTIC_VIOLENCE = "domestic_violence", _("Domestic violence")
    DUTY_TO_WARN = "duty_to_warn", _("Duty to warn / protect")
    EMERGENCY_SERVICES = "emergency_services", _("Emergency services")
    AUTHORIZED_RELEASE = "authorized_release", _("Release with the client's authorization")
    COURT_ORDER = "court_order", _("Subpoena or court order")
    OTHER = "other", _("Other")


ABUSE_TYPES = (
    DisclosureType.CHILD_ABUSE,
    DisclosureType.ADULT_ABUSE,
    DisclosureType.DOMESTIC_VIOLENCE,
)


class Disclosure(models.Model):
    """A disclosure of client information (CLINICAL.md §8; HIPAA §164.528): the rows of the
    client's accounting of disclosures. Recorded in a session's draft, after signing, or outside
    any session (`session` empty), or for each client of a bulk export sent outside the clinic
    (`export_job`). Never changed once its note left draft, and never when it has no session
    (database triggers, migrations 0002 and 0004)."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    client = models.ForeignKey(
        "crisis_sessions.Client", on_delete=models.PROTECT, related_name="disclosures"
    )
    session = models.ForeignKey(
        "crisis_sessions.CrisisSession",
        on_delete=models.PROTECT,
        related_name="disclosures",
        null=True,
        blank=True,
    )
    regarding_session = models.ForeignKey(
        "crisis_sessions.CrisisSession",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
    )
    export_job = models.ForeignKey(
        "crisis_sessions.ExportJob",
        on_delete=models.PROTECT,
        related_name="disclosures",
        null=True,
        blank=True,
    )
    type = models.CharField(max_length=30, choices=DisclosureType.choices)
    legal_basis = SafeCharField(max_length=300, verbose_name=_("Legal basis / jurisdiction"))
    threat_description = LimitedTextField(blank=True)
    identifiable_victim = SafeCharField(max_length=300, blank=True)
    imminence = SafeCharField(max_length=300, blank=True)
    consulted_with = SafeCharField(max_length=300, blank=True)
    recipient = SafeCharField(max_length=300)
    recipient_address = SafeCharField(max_length=300, blank=True)
    reference_number = SafeCharField(max_length=100, blank=True)
    disclosed_at = models.DateTimeField()
    information_disclosed = LimitedTextField(verbose_name=_("Information disclosed"))
    purpose = LimitedTextField()
    individual_informed = models.BooleanField(
        default=False, verbose_name=_("Client informed of the disclosure")
    )
    not_informed_reason = SafeCharField(
        max_length=300, blank=True, verbose_name=_("Reason the client was not informed")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-disclosed_at", "-id"]
        indexes = [models.Index(fields=["client", "-disclosed_at"])]
        constraints = [
            # A bulk export is disclosed once per client it holds, not once per click.
            models.UniqueConstraint(
                fields=["export_job", "client"], name="disclosure_once_per_export_and_client"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_type_display()} to {self.recipient}"

    @property
    def session_concerned_id(self) -> int | None:
        """The session this disclosure is about, whether recorded in it or later."""
        return self.session_id or self.regarding_session_id
