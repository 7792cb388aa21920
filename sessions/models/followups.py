"""Follow-up tasks agreed in a session. Unlike the note they keep changing after signing (attempts,
outcome, closing), so they are not frozen with it; the note's content hash covers the plan as it
stood at signing (due time, method, assignee)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class FollowUpMethod(models.TextChoices):
    CALL = "call", "Call"
    TEXT = "text", "Text"
    VISIT = "visit", "Visit"


class FollowUpOutcome(models.TextChoices):
    REACHED_SAFE = "reached_safe", "Reached, safe"
    REACHED_NEEDS_HELP = "reached_needs_help", "Reached, needs help"
    NO_ANSWER = "no_answer", "No answer"
    DECLINED = "declined", "Declined"
    ESCALATED = "escalated", "Escalated"


class FollowUpTask(models.Model):
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
    purpose = models.CharField(max_length=300, blank=True)
    outcome = models.CharField(max_length=30, choices=FollowUpOutcome.choices, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["due_at", "id"]
        indexes = [models.Index(fields=["closed_at", "due_at"])]

    def __str__(self) -> str:
        return f"Follow-up {self.get_method_display()} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


class FollowUpAttempt(models.Model):
    task = models.ForeignKey(FollowUpTask, on_delete=models.PROTECT, related_name="attempts")
    attempted_at = models.DateTimeField()
    method = models.CharField(max_length=10, choices=FollowUpMethod.choices)
    outcome = models.CharField(max_length=30, choices=FollowUpOutcome.choices)
    notes = models.TextField(blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["attempted_at", "id"]

    def __str__(self) -> str:
        return f"{self.get_outcome_display()} at {self.attempted_at:%Y-%m-%d %H:%M}"
