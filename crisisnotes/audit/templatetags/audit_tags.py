"""The rows of a page of the audit log.

A page shows 100 events with a dozen template nodes each (two `{% url %}`, two dates, links,
defaults): through the template engine that was the larger half of the page's time, more than
its queries (bench/README.md, issue 15). Built here with `format_html` instead: the same markup
as the template loop they replace (tests/audit/test_views.py renders both and compares), every
value escaped as autoescape does."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from crisisnotes.audit.models import AuditEvent

register = template.Library()

_ROW = (
    "\n    <tr>"
    '\n      <td><time datetime="{}">{}</time></td>'
    "\n      <td>{}</td>"
    "\n      <td>{}</td>"
    "\n      <td>{}</td>"
    "\n      <td>{}</td>"
    "\n      <td>{}</td>"
    "\n      <td>{}</td>"
    "\n    </tr>\n  "
)


def _when(value: datetime) -> tuple[str, str]:
    """`|date:"c"` and `|date:"Y-m-d H:i:s"` of a time in the active (clinic's) time zone,
    written directly: Django's DateFormat builds an object and walks the format string per call
    (~7x the time, 200 calls a page)."""
    local = timezone.localtime(value)
    day = f"{local.year:04d}-{local.month:02d}-{local.day:02d}"
    return local.isoformat(), f"{day} {local.hour:02d}:{local.minute:02d}:{local.second:02d}"


@register.simple_tag
def audit_event_rows(events: Iterable[tuple[AuditEvent, str]]) -> SafeString:
    """<tr> rows of (event, client label) pairs, times in the active (clinic's) time zone."""
    client_word = gettext("Client")
    actor_urls: dict[int, str] = {}
    # The client's access report link, reversed once: only the client's id changes.
    client_before, client_after = reverse("accounts:audit_client", args=[0]).rsplit("0", 1)
    rows = []
    for event, client_label in events:
        iso, shown = _when(event.created_at)
        if event.actor is not None:
            url = actor_urls.get(event.actor_id or 0)
            if url is None:
                url = actor_urls[event.actor_id or 0] = reverse(
                    "accounts:audit_user", args=[event.actor_id]
                )
            who = format_html(
                '<a href="{}">{}</a> <span class="text-body-secondary">({})</span>',
                url,
                event.actor.display_name,
                event.actor_username,
            )
        else:
            who = format_html("{}", event.actor_username or "—")
        record = (
            format_html(
                '<a href="?record_type={}&amp;record_id={}">{}</a>',
                quote(str(event.object_type), safe="/"),
                quote(str(event.object_id), safe="/"),
                event.record_in_words,
            )
            if event.object_type
            else ""
        )
        client = (
            format_html(
                '<a href="{}">{} (#{})</a>',
                f"{client_before}{int(event.client_id)}{client_after}",
                client_label or client_word,
                event.client_id,
            )
            if event.client_id
            else ""
        )
        rows.append(
            format_html(
                _ROW,
                iso,
                shown,
                who,
                event.get_action_display(),
                record,
                client,
                event.summary,
                event.ip_address or "",
            )
        )
    return mark_safe("".join(rows))  # noqa: S308 — each row built by format_html
