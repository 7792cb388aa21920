"""The rows of the client page's session timeline, built with `format_html`: each of its 20
rows went through a dozen template nodes (a `get_absolute_url` reverse, a `date` filter, three
display lookups, a risk label, a `{% translate %}`), about as much time as the rest of the page's
own markup (bench/README.md, issue 15). The same markup as the template loop they replace
(tests/sessions/test_clients.py renders both and compares), escaped as autoescape does."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from crisisnotes.html import pk_url
from sessions.models.notes import NoteStatus
from sessions.risk import risk_label
from sessions.templatetags.review_tags import local_date

register = template.Library()

_ROW = (
    "\n      <tr>"
    "\n        <td>{}</td>"
    "\n        <td>{}</td>"
    "\n        <td>{}</td>"
    '\n        <td data-testid="timeline-risk">{}</td>'
    '\n        <td><span class="badge {}">{}</span>{}</td>'
    "\n      </tr>\n    "
)
_BADGES = {NoteStatus.SIGNED: "text-bg-success", NoteStatus.DRAFT: "text-bg-secondary"}


@register.simple_tag
def client_timeline_rows(timeline: Iterable[tuple[Any, bool]]) -> SafeString:
    """The <tr> of each (row, whether the reader may open it) of the client's timeline
    (sessions.selectors.clients.TimelineRow)."""
    note_url = pk_url("crisis_sessions:note_detail")
    late = format_html(' <span class="badge text-bg-light">{}</span>', _("Late entry"))
    labels: dict[str, str] = {}
    rows = []
    for note, can_open in timeline:
        started = local_date(note.started_at, "Y-m-d H:i")
        level = note.risk_level
        label = labels.get(level)
        if label is None:
            label = labels[level] = risk_label(level)
        rows.append(
            format_html(
                _ROW,
                format_html('<a href="{}">{}</a>', note_url(note.pk), started)
                if can_open
                else started,
                note.author_name,
                note.get_modality_display(),
                label
                if level
                else format_html('<span class="text-body-secondary">{}</span>', label),
                _BADGES.get(note.status, "text-bg-warning"),
                note.get_status_display(),
                late if note.late_entry else "",
            )
        )
    return mark_safe("".join(rows))  # noqa: S308 — each row built by format_html


# The loop client_detail.html had for the start-session radios (tests compare the two).
START_RADIOS_LOOP = (
    "{% for radio in start_form.modality %}"
    '<div class="form-check form-check-inline">{{ radio.tag }}'
    '<label class="form-check-label" for="{{ radio.id_for_label }}">{{ radio.choice_label }}'
    "</label></div>{% endfor %}"
)
_start_radios: dict[str | None, str] = {}


@register.simple_tag
def start_session_radios() -> SafeString:
    """The start-session form's modality radios, as START_RADIOS_LOOP renders them for an
    unbound StartSessionForm (what the client page shows every reader of every client): made
    once per language for the process, where each page sent every radio through the form
    renderer's widget templates (about a tenth of the client page's time)."""
    from sessions.forms.clients import StartSessionForm

    language = get_language()
    html = _start_radios.get(language)
    if html is None:
        loop = template.Template("{% load i18n %}" + START_RADIOS_LOOP)
        html = _start_radios[language] = loop.render(
            template.Context({"start_form": StartSessionForm()})
        )
    return mark_safe(html)  # noqa: S308 — rendered by the template engine, autoescaped
