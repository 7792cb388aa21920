from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils.translation import pgettext_lazy

from crisisnotes.choices import ChoiceLabelsMixin


class Action(models.TextChoices):
    VIEW = "view", pgettext_lazy("audit action", "Viewed")
    CREATE = "create", pgettext_lazy("audit action", "Created")
    UPDATE = "update", pgettext_lazy("audit action", "Updated")
    DELETE = "delete", pgettext_lazy("audit action", "Deleted")
    SIGN = "sign", pgettext_lazy("audit action", "Signed")
    COSIGN = "cosign", pgettext_lazy("audit action", "Co-signed")
    RETURN = "return", pgettext_lazy("audit action", "Returned for changes")
    ADDENDUM = "addendum", pgettext_lazy("audit action", "Added addendum")
    EXPORT = "export", pgettext_lazy("audit action", "Exported")
    DOWNLOAD = "download", pgettext_lazy("audit action", "Downloaded")
    LOGIN = "login", pgettext_lazy("audit action", "Logged in")
    LOGOUT = "logout", pgettext_lazy("audit action", "Logged out")
    LOGIN_FAILED = "login_failed", pgettext_lazy("audit action", "Login failed")
    NOTIFY = "notify", pgettext_lazy("audit action", "Notified")
    SUPERVISE_VIEW = "supervise_view", pgettext_lazy("audit action", "Viewed draft (supervision)")
    SEARCH = "search", pgettext_lazy("audit action", "Searched")
    DENIED = "denied", pgettext_lazy("audit action", "Refused access")
    UNLOCK = "unlock", pgettext_lazy("audit action", "Unlocked log-in")
    MFA_ENROL = "mfa_enrol", pgettext_lazy("audit action", "Set up two-factor sign-in")
    MFA_REMOVE = "mfa_remove", pgettext_lazy("audit action", "Removed two-factor sign-in")
    MFA_RECOVERY = "mfa_recovery", pgettext_lazy("audit action", "Signed in with a recovery code")
    MFA_RESET = "mfa_reset", pgettext_lazy("audit action", "Reset two-factor sign-in")
    PASSWORD_CHANGE = "password_change", pgettext_lazy("audit action", "Changed password")


class AuditEvent(ChoiceLabelsMixin, models.Model):
    """Who did what to which record, when and from where. Append-only: a database trigger
    (migration 0002) rejects every UPDATE and DELETE, whatever code path tries."""

    # No single-column indexes: every read of the log is scoped to a clinic, so the composite
    # (clinic, ..., created_at) indexes below serve them and a single-column one only costs
    # inserts (users and clinics are never deleted, so PROTECT never scans for them either).
    created_at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # Kept as text too: who tried matters for failed logins, where there is no actor.
    actor_username = models.CharField(max_length=150, blank=True)
    clinic = models.ForeignKey(
        "accounts.Clinic",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # The client (case record) the event concerns, for the client's access report. An id, not a
    # foreign key: crisisnotes never depends on the apps built on it (the client model lives in
    # `sessions`), and a client is never deleted.
    client_id = models.BigIntegerField(null=True, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        # One composite index per filter of the audit log and its reports (see
        # crisisnotes.audit.selectors); each ends in created_at so "newest first" within a filter
        # is an index scan, not a sort.
        indexes = [
            models.Index(fields=["clinic", "-created_at"]),
            models.Index(
                fields=["clinic", "client_id", "-created_at"], name="audit_clinic_client_idx"
            ),
            models.Index(fields=["clinic", "actor", "-created_at"], name="audit_clinic_actor_idx"),
            models.Index(
                fields=["clinic", "action", "-created_at"], name="audit_clinic_action_idx"
            ),
            models.Index(fields=["object_type", "object_id"]),
        ]

    def __str__(self) -> str:
        when = f"{self.created_at:%Y-%m-%d %H:%M}"
        return f"{when} {self.actor_username} {self.action} {self.object_type}"

    @property
    def object_label(self) -> str:
        """The record's kind in words ("Crisis session"), for people reading the log."""
        try:
            model = apps.get_model(self.object_type)
        except (LookupError, ValueError):
            return self.object_type
        return str(model._meta.verbose_name).capitalize()

    @property
    def record_in_words(self) -> str:
        """The record the event concerns, as a person reads it: "Crisis session #12"."""
        if not self.object_type:
            return ""
        return f"{self.object_label} #{self.object_id}" if self.object_id else self.object_label


# The model whose rows are "clients" for the access report (the services write it, the selectors
# read it). A name, not an import: crisisnotes never imports the apps built on it.
CLIENT_MODEL = "crisis_sessions.client"
