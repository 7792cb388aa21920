"""Tokens of partner systems for the optional read-only FHIR endpoint (FHIR_API_ENABLED).

Only a SHA-256 of the token is stored: the token is shown once, when created, and a copy of
the table reveals none. A token reads the signed records of its own clinic, nothing else."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class FhirApiToken(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    name = models.CharField(max_length=200, help_text="The partner system, e.g. its 988 centre.")
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters, so people can tell tokens apart without the secret.
    prefix = models.CharField(max_length=12, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["clinic", "-created_at"]
        verbose_name = "FHIR API token"

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
