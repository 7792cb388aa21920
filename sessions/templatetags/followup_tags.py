"""The note page's follow-up tasks block (followups feature): rendered from the note and the
reader in a fixed number of queries, the same markup the htmx answer sends back."""

from __future__ import annotations

from typing import Any, cast

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

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


# Stands for the task's pk in the fields rendered once per page (see followup_action_fields).
_TASK_PK = "__task__"


@register.simple_tag(takes_context=True)
def followup_action_fields(context: template.Context, task: Any, kind: str) -> str:
    """The fields of one task's "log an attempt" (`kind` "attempt") or "close" form in the
    counselor's list, unbound ("attempt" starts at the task's method).

    Rendered through Django's widget templates for each of 50 tasks they were most of "my
    work"'s time (~1,100 template includes a page, bench/README.md). The markup differs
    between tasks only by the pk in the form prefix, so it is rendered once per page, kind and
    method with a placeholder prefix and each task gets a copy with its pk."""
    from sessions.forms.followups import FollowUpAttemptForm, FollowUpCloseForm

    # Kept for this render only (render_context); django-stubs types it for Django's own keys.
    rendered = cast(
        dict[tuple[str, str], str],
        context.render_context.setdefault("followup_action_fields", {}),  # type: ignore[arg-type]
    )
    key = (kind, task.method if kind == "attempt" else "")
    html = rendered.get(key)
    if html is None:
        prefix = f"{kind}-{_TASK_PK}"
        form = (
            FollowUpAttemptForm(prefix=prefix, initial={"method": task.method})
            if kind == "attempt"
            else FollowUpCloseForm(prefix=prefix)
        )
        html = render_to_string(
            "sessions/followups/partials/followup_action_fields.html", {"form": form}
        )
        rendered[key] = html
    return mark_safe(html.replace(_TASK_PK, str(int(task.pk))))  # noqa: S308 — our template
