"""Live supervision: a supervisor's reply to a contact in progress.

A consult reply is what the supervisor on shift told the counselor while the contact was going
on. It is kept with the note (shown on it and after signing) and never edited or deleted: a
trigger installed by migration rejects UPDATE and DELETE, so the advice given stays on file as it
was given.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from crisisnotes.validators import LimitedTextField, SafeCharField


class ConsultReply(models.Model):
    session = models.ForeignKey(
        "crisis_sessions.CrisisSession", on_delete=models.PROTECT, related_name="consult_replies"
    )
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Copied, like signatures: the note shows who the supervisor was at the time.
    author_name = SafeCharField(max_length=200)
    text = LimitedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["session", "created_at"])]

    def __str__(self) -> str:
        return f"Consult reply {self.pk} on session {self.session_id}"
