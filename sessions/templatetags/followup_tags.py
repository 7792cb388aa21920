"""The note page's follow-up tasks block (followups feature): rendered from the note and the
reader in a fixed number of queries, the same markup the htmx answer sends back."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.inclusion_tag("sessions/followups/partials/note_tasks_body.html", takes_context=True)
def note_followups(context: dict[str, Any], note: Any, editable: bool = False) -> dict[str, Any]:
    from sessions.views.followups import note_tasks_context

    request = context["request"]
    data = note_tasks_context(
        user=request.user, note=note, editable=bool(editable) and note.is_draft
    )
    data["request"] = request
    data["csrf_token"] = context.get("csrf_token")
    return data


@register.simple_tag
def followup_action_forms(task: Any) -> dict[str, Any]:
    """Unbound "log an attempt" and "close" forms for one task of the counselor's list."""
    from sessions.forms.followups import FollowUpAttemptForm, FollowUpCloseForm

    return {
        "attempt": FollowUpAttemptForm(
            prefix=f"attempt-{task.pk}", initial={"method": task.method}
        ),
        "close": FollowUpCloseForm(prefix=f"close-{task.pk}"),
    }
