"""The clinic's snippets: short phrases a counselor inserts into any text field of the note by
typing ";" and the snippet's shortcut (static/js/note.js). Edited by the clinic admin. Not part
of any record themselves: what a counselor inserts is typed text like any other."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy

from crisisnotes.validators import LimitedTextField

SHORTCUT_VALIDATOR = RegexValidator(
    r"^[a-z0-9]{1,20}$", gettext_lazy("Use 1–20 lower-case letters or digits (typed after “;”).")
)


class Snippet(models.Model):
    clinic = models.ForeignKey("accounts.Clinic", on_delete=models.PROTECT, related_name="+")
    shortcut = models.CharField(max_length=20, validators=[SHORTCUT_VALIDATOR])
    text = LimitedTextField(max_length=2000)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["shortcut"]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "shortcut"], name="snippet_shortcut_unique")
        ]

    def __str__(self) -> str:
        return f";{self.shortcut}"
