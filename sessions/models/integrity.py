"""Integrity alerts: a signed record whose stored hash no longer matches its stored content."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy


class RecordCheckKind(models.TextChoices):
    CONTENT = "content", gettext_lazy("Content hash")
    COSIGN = "cosign", gettext_lazy("Co-sign hash")


class RecordIntegrityAlert(models.Model):
    """A mismatch found by the periodic record check, announced to the clinic's admins: at most
    one per (note, kind).

    The unique constraint is what makes "notify once per mismatch" hold with two beat processes,
    two workers or a retried run: the row is inserted in the same transaction as the
    notifications, and a second insert for the same (note, kind) fails and rolls its
    notifications back (the pattern of FollowUpAlert). The hashes are kept as found, so the
    alert still says what was wrong if the record is later restored from a backup."""

    session = models.ForeignKey(
        "crisis_sessions.CrisisSession", on_delete=models.PROTECT, related_name="integrity_alerts"
    )
    kind = models.CharField(max_length=10, choices=RecordCheckKind.choices)
    stored_hash = models.CharField(max_length=64, blank=True)
    computed_hash = models.CharField(max_length=64)
    detected_at = models.DateTimeField()

    class Meta:
        ordering = ["-detected_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "kind"], name="record_integrity_alert_once_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} mismatch on session {self.session_id}"
