"""Supervisor review of notes awaiting co-signature.

A review comment is part of the record's history: a supervisor's return with comments, and what
they asked for, must stay readable after the author fixes the note and it is co-signed. So the
rows are append-only (a trigger installed by migration rejects UPDATE and DELETE).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from crisisnotes.validators import LimitedTextField


class ReviewComment(models.Model):
    """One comment of a supervisor's return. `section_key` anchors it to a note section (a key of
    sessions.registry.sections()); blank means the whole note. `round` numbers the returns of the
    note (1 for the first return, 2 for the second...), so the thread reads round by round."""

    session = models.ForeignKey(
        "crisis_sessions.CrisisSession", on_delete=models.PROTECT, related_name="review_comments"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Copied, like signatures: the thread shows who the reviewer was at the time.
    author_name = models.CharField(max_length=200)
    section_key = models.CharField(max_length=50, blank=True)
    text = LimitedTextField()
    round = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["round", "created_at", "id"]
        indexes = [models.Index(fields=["session", "round"])]

    def __str__(self) -> str:
        return f"Review comment {self.pk} on session {self.session_id} (round {self.round})"
