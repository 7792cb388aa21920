"""The rows of a page of the audit log.

A page shows 100 events with a dozen template nodes each (two `{% url %}`, two dates, links,
defaults): through the template engine that was the larger half of the page's time, more than
its queries (bench/README.md, issue 15). Built here in Python instead: the same markup as the
template loop they replace (tests/audit/test_views.py renders both and compares), every value
escaped as autoescape does (crisisnotes.html.autoescaped, without format_html's per-call
overhead)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from urllib.parse import quote

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from crisisnotes.audit.models import AuditEvent
from crisisnotes.html import autoescaped as _escape

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
    client_word = _escape(gettext("Client"))
    actor_urls: dict[int, str] = {}
    # An action's label translated once a page (a lazy label is a gettext call per row).
    action_words: dict[str, str] = {}
    # The client's access report link, reversed once: only the client's id changes.
    client_before, client_after = reverse("accounts:audit_client", args=[0]).rsplit("0", 1)
    client_before, client_after = _escape(client_before), _escape(client_after)
    rows = []
    for event, client_label in events:
        # Digits, "-", ":", "T", "+" and a space: nothing to escape.
        iso, shown = _when(event.created_at)
        if event.actor is not None:
            url = actor_urls.get(event.actor_id or 0)
            if url is None:
                url = actor_urls[event.actor_id or 0] = _escape(
                    reverse("accounts:audit_user", args=[event.actor_id])
                )
            who = (
                f'<a href="{url}">{_escape(event.actor.display_name)}</a> '
                f'<span class="text-body-secondary">({_escape(event.actor_username)})</span>'
            )
        else:
            who = _escape(event.actor_username or "—")
        record = (
            f'<a href="?record_type={_escape(quote(str(event.object_type), safe="/"))}'
            f'&amp;record_id={_escape(quote(str(event.object_id), safe="/"))}">'
            f"{_escape(event.record_in_words)}</a>"
            if event.object_type
            else ""
        )
        client = (
            f'<a href="{client_before}{int(event.client_id)}{client_after}">'
            f"{_escape(client_label) if client_label else client_word} "
            f"(#{_escape(event.client_id)})</a>"
            if event.client_id
            else ""
        )
        action = action_words.get(event.action)
        if action is None:
            action = action_words[event.action] = _escape(event.get_action_display())
        rows.append(
            _ROW.format(
                iso,
                shown,
                who,
                action,
                record,
                client,
                _escape(event.summary),
                _escape(event.ip_address or ""),
            )
        )
    return mark_safe("".join(rows))  # noqa: S308 — every value escaped by _escape
