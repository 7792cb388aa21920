from __future__ import annotations

from django.conf import settings
from django.db import models


class Notification(models.Model):
    """A message for one user, shown under the bell (and e-mailed where they have an address).

    `event_key` names the event that caused it ("followup:12:reminder", "note:7:returned:3"): the
    unique constraint makes "notify once per event" hold even when two workers or a retried task
    try to send the same one.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="notifications"
    )
    event_key = models.CharField(max_length=200)
    kind = models.CharField(max_length=50)
    message = models.CharField(max_length=500)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "event_key"], name="notification_once_per_event"
            )
        ]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self) -> str:
        return self.message
