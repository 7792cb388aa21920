from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Notification(models.Model):
    """A message for one user, shown under the bell (and e-mailed where they have an address).

    `event_key` names the event that caused it ("followup:12:reminder", "note:7:returned:3"): the
    unique constraint makes "notify once per event" hold even when two workers or a retried task
    try to send the same one.
    """

    # No index of its own: the unique (recipient, event_key) and the (recipient, read_at) indexes
    # start with it, and a third copy only slowed the follow-up scan's bulk inserts.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="notifications",
        db_index=False,
    )
    event_key = models.CharField(max_length=200)
    kind = models.CharField(max_length=50)
    message = models.CharField(max_length=500)
    url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # The e-mail that tells the recipient of it, if they can be e-mailed: its own for
    # notification_send, shared by a batch's notifications to one recipient for a bulk notifier
    # (the follow-up scan mails each counselor once a batch, listing their alerts). Its status
    # (sent, retrying, gave up) is what the notifications page shows. No index: an e-mail is
    # reached from its notifications, never the other way, and a third index entry per alert
    # only slowed the scan.
    email = models.ForeignKey(
        "OutgoingEmail",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
        db_index=False,
    )

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


class EmailStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Not sent (gave up)")


class OutgoingEmail(models.Model):
    """One e-mail to one user, the outbox row that is the truth about it.

    Every e-mail the app sends is a row here first (written in the caller's transaction), then a
    Celery task after commit sends it. A failed attempt stays PENDING with `next_attempt_at`
    until EMAIL_MAX_ATTEMPTS, then FAILED; a beat sweep re-sends pending rows whose task was lost
    (broker down when enqueued, Redis restarted). The send holds the row's lock and checks the
    status, so a duplicate task delivery never sends twice.

    A notification's e-mail is linked from the notification (`Notification.email`): one e-mail
    may tell one recipient of several notifications made together.

    A password-reset e-mail stores no body: its one-time link is made at send time, so no live
    token ever sits in the database or the broker.
    """

    class Kind(models.TextChoices):
        NOTIFICATION = "notification", _("Notification")
        PASSWORD_RESET = "password_reset", _("Password reset")
        SECURITY = "security", _("Account security")

    kind = models.CharField(max_length=30, choices=Kind.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="outgoing_emails"
    )
    subject = models.CharField(max_length=300, blank=True)
    body = models.TextField(blank=True)
    # Password reset: the site's domain and scheme for the link (rendered at send time).
    link_domain = models.CharField(max_length=255, blank=True)
    link_https = models.BooleanField(default=True)
    status = models.CharField(
        max_length=10, choices=EmailStatus.choices, default=EmailStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="outgoing_email_pending",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to user {self.recipient_id} ({self.status})"
