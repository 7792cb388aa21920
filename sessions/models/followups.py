"""Follow-up tasks agreed in a session. Unlike the note they keep changing after signing (attempts,
outcome, closing); the note's content hash covers the plan as it stood at signing (due time,
method, assignee, purpose). Triggers (migration 0007) keep that plan once the note left draft,
refuse new tasks on such a note, keep a closed task's outcome, and make attempts and alerts
append-only."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy, pgettext_lazy

from crisisnotes.choices import ChoiceLabelsMixin
from crisisnotes.validators import LimitedTextField, SafeCharField


class FollowUpMethod(models.TextChoices):
    CALL = "call", gettext_lazy("Call")
    TEXT = "text", pgettext_lazy("contact by", "Text")
    VISIT = "visit", gettext_lazy("Visit")


class FollowUpOutcome(models.TextChoices):
    REACHED_SAFE = "reached_safe", gettext_lazy("Reached, safe")
    REACHED_NEEDS_HELP = "reached_needs_help", gettext_lazy("Reached, needs help")
    NO_ANSWER = "no_answer", gettext_lazy("No answer")
    DECLINED = "declined", gettext_lazy("Declined")
    ESCALATED = "escalated", gettext_lazy("Escalated")


class FollowUpTask(ChoiceLabelsMixin, models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    session = models.ForeignKey(
        "crisis_sessions.CrisisSession", on_delete=models.PROTECT, related_name="followup_tasks"
    )
    client = models.ForeignKey(
        "crisis_sessions.Client", on_delete=models.PROTECT, related_name="followup_tasks"
    )
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="followup_tasks"
    )
    due_at = models.DateTimeField(db_index=True)
    method = models.CharField(max_length=10, choices=FollowUpMethod.choices)
    purpose = SafeCharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=30, choices=FollowUpOutcome.choices, blank=True)
    outcome_notes = LimitedTextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["closed_at", "due_at"]),
            # The open tasks in due order, as the team's follow-up lists read them: without it
            # PostgreSQL walks the due_at index through every closed task (~90% of them).
            models.Index(
                fields=["clinic", "due_at", "id"],
                condition=models.Q(closed_at__isnull=True),
                name="followup_open_due_idx",
            ),
            # One person's open tasks in due order ("my work"), and the team page's counts of
            # its members' open and overdue tasks: index-only once VACUUM has run, instead of
            # ~2,000 heap pages of the clinic's open tasks read and filtered by assignee.
            models.Index(
                fields=["assigned_to", "due_at", "id"],
                include=["clinic"],
                condition=models.Q(closed_at__isnull=True),
                name="followup_open_assignee_idx",
            ),
            # A client's open tasks in due order (the client page): without it PostgreSQL
            # intersected the client's tasks with the clinic's ~10,000 open ones (BitmapAnd,
            # ~1 ms on the bench's data) to keep a handful.
            models.Index(
                fields=["client", "due_at", "id"],
                condition=models.Q(closed_at__isnull=True),
                name="followup_open_client_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"Follow-up {self.get_method_display()} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class FollowUpAttempt(ChoiceLabelsMixin, models.Model):
    task = models.ForeignKey(FollowUpTask, on_delete=models.PROTECT, related_name="attempts")
    attempted_at = models.DateTimeField()
    method = models.CharField(max_length=10, choices=FollowUpMethod.choices)
    outcome = models.CharField(max_length=30, choices=FollowUpOutcome.choices)
    notes = LimitedTextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["attempted_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} at {self.attempted_at:%Y-%m-%d %H:%M}"


class FollowUpAlertKind(models.TextChoices):
    REMINDER = "reminder", gettext_lazy("Reminder")
    ESCALATION = "escalation", gettext_lazy("Escalation")


class FollowUpAlert(models.Model):
    """A reminder or escalation sent for a task: at most one of each kind per task.

    The unique constraint is what makes "sent exactly once" hold with two beat processes, two
    workers, a retried scan or a Redis restart: every scan inserts the row in the same transaction
    as the notification, and the second insert for the same (task, kind) fails (it waits for the
    first transaction and then violates the constraint), so its notification rolls back with it.
    A row (rather than a timestamp column claimed with select_for_update) also records who was
    alerted, and survives the task being closed later.
    """

    # No index of its own: the unique (task, kind) index starts with it (the scan inserts
    # thousands of alerts a second, and every index is paid per row).
    task = models.ForeignKey(
        FollowUpTask, on_delete=models.PROTECT, related_name="alerts", db_index=False
    )
    kind = models.CharField(max_length=20, choices=FollowUpAlertKind.choices)
    # Empty for an escalation when the counselor's team has no active supervisor.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["sent_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["task", "kind"], name="followup_alert_once_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for task {self.task_id} at {self.sent_at:%Y-%m-%d %H:%M}"
