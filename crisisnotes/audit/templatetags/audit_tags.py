"""The rows of a page of the audit log.

A page shows 100 events with a dozen template nodes each (two `{% url %}`, two dates, links,
defaults): through the template engine that was the larger half of the page's time, more than
its queries (bench/README.md, issue 15). Built here in Python instead: the same markup as the
template loop they replace (tests/audit/test_views.py renders both and compares), every value
escaped as autoescape does (crisisnotes.html.autoescaped, without format_html's per-call
overhead)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo
from urllib.parse import quote

from django import template
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from crisisnotes.audit.models import AuditEvent
from crisisnotes.html import autoescaped as _escape
from crisisnotes.html import pk_url_parts

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


def _when(value: datetime, zone: tzinfo) -> tuple[str, str]:
    """`|date:"c"` and `|date:"Y-m-d H:i:s"` of a time in `zone` (the active, clinic's, time
    zone, read once a page), written directly: Django's DateFormat builds an object and walks the
    format string per call (~7x the time, 200 calls a page)."""
    local = value.astimezone(zone)
    day = f"{local.year:04d}-{local.month:02d}-{local.day:02d}"
    return local.isoformat(), f"{day} {local.hour:02d}:{local.minute:02d}:{local.second:02d}"


def _quoted(text: str) -> str:
    """`urlencode` of a record's type or id in a link, escaped: ASCII digits (every record id
    the app writes) stay as they are."""
    if text.isdigit() and text.isascii():
        return text
    return _escape(quote(text, safe="/"))


@register.simple_tag
def audit_event_rows(events: Iterable[tuple[AuditEvent, str]]) -> SafeString:
    """<tr> rows of (event, client label) pairs, times in the active (clinic's) time zone.

    What repeats down a page is built once a page: the time zone, an actor's cell (a page names
    a few dozen people), a record type's link and words (a gettext and an app registry lookup
    each), an action's label, the two report URLs (reversed once, only the id changes)."""
    zone = timezone.get_current_timezone()
    client_word = _escape(gettext("Client"))
    # (actor, username written in the event) → the "who" cell.
    actor_cells: dict[tuple[int, str], str] = {}
    # A record type → (its link's start, its words and " #", escaped).
    record_parts: dict[str, tuple[str, str, str]] = {}
    # An action's label translated once a page (a lazy label is a gettext call per row).
    action_words: dict[str, str] = {}
    client_before, client_after = pk_url_parts("accounts:audit_client")
    client_before, client_after = _escape(client_before), _escape(client_after)
    actor_before, actor_after = pk_url_parts("accounts:audit_user")
    actor_before, actor_after = _escape(actor_before), _escape(actor_after)
    rows = []
    for event, client_label in events:
        # Digits, "-", ":", "T", "+" and a space: nothing to escape.
        iso, shown = _when(event.created_at, zone)
        actor = event.actor
        if actor is not None:
            key = (event.actor_id or 0, event.actor_username)
            who = actor_cells.get(key)
            if who is None:
                who = actor_cells[key] = (
                    f'<a href="{actor_before}{key[0]}{actor_after}">'
                    f"{_escape(actor.display_name)}</a> "
                    f'<span class="text-body-secondary">({_escape(event.actor_username)})</span>'
                )
        else:
            who = _escape(event.actor_username or "—")
        object_type = event.object_type
        if object_type:
            parts = record_parts.get(object_type)
            if parts is None:
                label = event.object_label
                parts = record_parts[object_type] = (
                    f'<a href="?record_type={_quoted(str(object_type))}&amp;record_id=',
                    _escape(label),
                    _escape(f"{label} #"),
                )
            object_id = str(event.object_id)
            record = (
                f'{parts[0]}{_quoted(object_id)}">'
                f"{parts[2] + _escape(object_id) if object_id else parts[1]}</a>"
            )
        else:
            record = ""
        client = (
            f'<a href="{client_before}{int(event.client_id)}{client_after}">'
            f"{_escape(client_label) if client_label else client_word} "
            f"(#{int(event.client_id)})</a>"
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
