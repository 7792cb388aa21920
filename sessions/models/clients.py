from __future__ import annotations

import re

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy

from crisisnotes.choices import ChoiceLabelsMixin
from crisisnotes.validators import LimitedTextField, SafeCharField, validate_not_future_date


def phone_digits(phone: str) -> str:
    """The digits of a phone number, for search: "(555) 010-4477" → "5550104477"."""
    return re.sub(r"\D", "", phone or "")


class AgeRange(models.TextChoices):
    UNDER_13 = "under_13", gettext_lazy("Under 13")
    TEEN = "13_17", "13–17"
    YOUNG_ADULT = "18_24", "18–24"
    ADULT = "25_44", "25–44"
    MIDDLE = "45_64", "45–64"
    OLDER = "65_plus", "65+"


# What a counselor or an admin may edit on a client (the form's fields, the update service's
# whitelist and the audit of what changed).
CLIENT_FIELDS = (
    "alias",
    "name",
    "pronouns",
    "date_of_birth",
    "age_range",
    "phone",
    "language",
    "location",
    "emergency_contact",
    "supports_notes",
)


class Client(ChoiceLabelsMixin, models.Model):
    """A case record. Possibly anonymous: only the alias ("Caller, blue jacket") is required."""

    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="clients")
    alias = SafeCharField(max_length=200)
    name = SafeCharField(max_length=200, blank=True)
    pronouns = SafeCharField(max_length=50, blank=True)
    date_of_birth = models.DateField(null=True, blank=True, validators=[validate_not_future_date])
    age_range = models.CharField(max_length=20, choices=AgeRange.choices, blank=True)
    phone = SafeCharField(max_length=40, blank=True)
    phone_digits = models.CharField(max_length=40, blank=True, db_index=True, editable=False)
    # The language of everything the client takes home: the client copy of the safety plan and
    # client-facing texts are produced in it, whatever the counselor's interface language.
    language = models.CharField(
        gettext_lazy("language"),
        max_length=8,
        choices=settings.LANGUAGES,
        default="en",
        help_text=gettext_lazy("The client copy of the safety plan is written in this language."),
    )
    location = SafeCharField(
        max_length=300, blank=True, help_text=gettext_lazy("Address or location.")
    )
    emergency_contact = SafeCharField(max_length=300, blank=True)
    supports_notes = LimitedTextField(blank=True, verbose_name=gettext_lazy("Notes on supports"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        indexes = [
            models.Index(fields=["clinic", "alias"]),
            models.Index(fields=["clinic", "name"]),
            # The search page without a query: the clinic's clients seen most recently, read in
            # order from this index (20 rows) instead of a sort of every client of the clinic.
            models.Index(fields=["clinic", "-updated_at", "-id"], name="client_clinic_recent_idx"),
        ]

    def __str__(self) -> str:
        return self.alias

    def save(self, *args: object, **kwargs: object) -> None:
        self.phone_digits = phone_digits(self.phone)
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def get_absolute_url(self) -> str:
        return reverse("crisis_sessions:client_detail", kwargs={"client_id": self.pk})


class ResourceCategory(models.TextChoices):
    CRISIS_COUNSELLING = "crisis_counselling", gettext_lazy("Crisis counselling")
    WALK_IN = "walk_in", gettext_lazy("Walk-in clinic")
    SHELTER = "shelter", gettext_lazy("Shelter")
    FOOD = "food", gettext_lazy("Food bank")
    LIFELINE_988 = "988", gettext_lazy("988 Suicide & Crisis Lifeline")
    OTHER = "other", gettext_lazy("Other")


class CommunityResource(models.Model):
    """The clinic's resource directory, from which the rapport stage picks what was given."""

    clinic = models.ForeignKey(
        "accounts.Clinic", on_delete=models.PROTECT, related_name="resources"
    )
    category = models.CharField(max_length=30, choices=ResourceCategory.choices)
    name = SafeCharField(max_length=200)
    contact = SafeCharField(max_length=300)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.contact})"
