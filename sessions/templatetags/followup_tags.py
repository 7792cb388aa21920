"""The note page's follow-up tasks block (followups feature): rendered from the note and the
reader in a fixed number of queries, the same markup the htmx answer sends back."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from crisisnotes.html import autoescaped, pk_url
from sessions.selectors.work import FollowUpRow
from sessions.templatetags.review_tags import local_date

register = template.Library()


@register.inclusion_tag("sessions/followups/partials/note_tasks_body.html", takes_context=True)
def note_followups(context: dict[str, Any], note: Any, editable: bool = False) -> dict[str, Any]:
    from sessions.views.followups import note_tasks_context

    request = context["request"]
    data = note_tasks_context(
        user=request.user,
        note=note,
        editable=bool(editable) and note.is_draft,
        # The note page's list of colleagues, read once for its handoff list and this form.
        counselors=context.get("assignees"),
    )
    data["request"] = request
    data["csrf_token"] = context.get("csrf_token")
    return data


# Stands for the task's pk in the fields rendered once (see followup_action_fields).
_TASK_PK = "__task__"
# (language, kind, method) → the fields with _TASK_PK for the pk: a handful of entries (two
# kinds, four methods, the clinic's languages); cleared past the limit, as light_fields' parts.
_ACTION_FIELDS: dict[tuple[str, str, str], str] = {}
_ACTION_FIELDS_LIMIT = 64


@register.simple_tag
def followup_action_fields(task: Any, kind: str) -> str:
    """The fields of one task's "log an attempt" (`kind` "attempt") or "close" form in the
    counselor's list, unbound ("attempt" starts at the task's method).

    Rendered through Django's widget templates for each of 50 tasks they were most of "my
    work"'s time (~1,100 template includes a page, bench/README.md). The markup differs
    between tasks only by the pk in the form prefix, so it is rendered with a placeholder
    prefix once per kind, method and language (the forms are unbound, their choices fixed in
    code: nothing else of the request or the data enters it) and each task gets a copy with its
    pk. Once per page, the four renders were still ~10% of the page's time."""
    from sessions.forms.followups import FollowUpAttemptForm, FollowUpCloseForm

    key = (get_language() or "", kind, task.method if kind == "attempt" else "")
    html = _ACTION_FIELDS.get(key)
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
        if len(_ACTION_FIELDS) >= _ACTION_FIELDS_LIMIT:
            _ACTION_FIELDS.clear()
        _ACTION_FIELDS[key] = html
    return mark_safe(html.replace(_TASK_PK, str(int(task.pk))))  # noqa: S308 — our template


_ITEM = (
    '\n        <li class="list-group-item {}" data-followup="{}">'
    '\n          <div class="d-flex flex-wrap gap-2 align-items-baseline">'
    '\n            <a class="fw-semibold" href="{}">{}</a>'
    '\n            <span>· {} <time datetime="{}">{}</time>{}</span>'
    "\n          </div>"
    "\n          {}"
    '\n          <details class="mt-1">'
    '\n            <summary class="small">{}</summary>'
    '\n            <form method="post" action="{}" class="row g-2 mt-1">{}'
    '\n              <input type="hidden" name="next" value="{}">'
    "\n              {}"
    '\n              <div class="col-12"><button class="btn btn-sm btn-primary" type="submit">{}'
    "</button>"
    '\n                <span class="small text-body-secondary">{}</span></div>'
    "\n            </form>"
    '\n            <form method="post" action="{}" class="row g-2 mt-2 border-top pt-2">{}'
    '\n              <input type="hidden" name="next" value="{}">'
    "\n              {}"
    '\n              <div class="col-12"><button class="btn btn-sm btn-outline-secondary" '
    'type="submit">{}</button></div>'
    "\n            </form>"
    "\n          </details>"
    "\n        </li>\n      "
)


@register.simple_tag(takes_context=True)
def my_followup_items(
    context: template.Context, tasks: Iterable[FollowUpRow], now: datetime
) -> SafeString:
    """The <li> of each follow-up in the counselor's list ("my work",
    sessions.selectors.work.followup_open_rows_for_assignee), built with format_html:
    through the template engine each task's ~40 nodes (three `{% url %}`, two CSRF tokens,
    dates, translations) were most of the page's time once the forms' fields were rendered once
    per page (bench/README.md, issue 15). The same markup as the template loop they replace
    (tests/sessions/test_views_work.py renders both and compares), escaped as autoescape does;
    the one blocktranslate's words stay unescaped as the tag leaves them."""
    token = context.get("csrf_token")
    # As {% csrf_token %} renders it.
    csrf = (
        format_html('<input type="hidden" name="csrfmiddlewaretoken" value="{}">', token)
        if token and token != "NOTPROVIDED"  # noqa: S105 — Django's "no token" marker
        else ""
    )
    next_url = context["request"].get_full_path()
    zone = timezone.get_current_timezone()
    note_url = pk_url("crisis_sessions:note_detail")
    attempt_url = pk_url("crisis_sessions:followup_attempt")
    close_url = pk_url("crisis_sessions:followup_close")
    # Translated and escaped once per list, not once per task.
    words = {
        name: autoescaped(text)
        for name, text in (
            ("summary", _("Log an attempt or close")),
            ("log", _("Log attempt")),
            ("no_answer", _("“No answer” keeps it open; any other outcome closes it.")),
            ("close", _("Close follow-up")),
        )
    }
    overdue_mark = format_html(" <strong>{}</strong>", _("(overdue)"))
    method_due_words = _("%(method)s · due")
    method_due: dict[str, str] = {}
    next_value = autoescaped(next_url)
    items = []
    for task in tasks:
        overdue = task.due_at < now
        due = method_due.get(task.method)
        if due is None:
            # blocktranslate's words, the method escaped
            due = method_due[task.method] = method_due_words % {
                "method": autoescaped(task.get_method_display())
            }
        purpose = task.purpose
        if purpose:
            purpose = f'<div class="small">{autoescaped(purpose)}</div>'
        items.append(
            _ITEM.format(
                "list-group-item-danger" if overdue else "",
                int(task.pk),
                note_url(task.session_id),
                autoescaped(task.client_alias),
                due,
                local_date(task.due_at, "c", zone),
                local_date(task.due_at, "Y-m-d H:i", zone),
                overdue_mark if overdue else "",
                purpose,
                words["summary"],
                attempt_url(task.pk),
                csrf,
                next_value,
                followup_action_fields(task, "attempt"),
                words["log"],
                words["no_answer"],
                close_url(task.pk),
                csrf,
                next_value,
                followup_action_fields(task, "close"),
                words["close"],
            )
        )
    return mark_safe("".join(items))  # noqa: S308 — every value escaped by autoescaped
