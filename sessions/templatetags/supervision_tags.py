"""Template helpers for the live-supervision partials the note page includes."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from django import template
from django.conf import settings
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from sessions.models import ConsultReply, CrisisSession
from sessions.selectors.supervision import consult_reply_list

register = template.Library()

POLL_SETTINGS = {
    "board": "LIVE_BOARD_POLL_SECONDS",
    "consult": "CONSULT_POLL_SECONDS",
    "notifications": "NOTIFICATION_POLL_SECONDS",
}


@register.simple_tag
def poll_seconds(name: str) -> int:
    """How often a polled partial asks for changes (settings, so tests can shorten it)."""
    return int(getattr(settings, POLL_SETTINGS[name]))


@register.simple_tag
def consult_replies(note: CrisisSession) -> list[ConsultReply]:
    return consult_reply_list(note=note)


@register.filter
def hours_minutes(value: timedelta | None) -> str:
    """A duration as "45 min", "2 h 05 min", "3 d 4 h"; "—" when there is none."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds() // 60)
    if minutes < 0:
        return "—"
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    return f"{minutes} min"


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{round(value * 100)}%"


_LOAD_ROW = (
    '\n      <tr data-testid="load-row-{username}">'
    '\n        <th scope="row" class="fw-normal">{name}</th>'
    '\n        <td class="text-end">{contacts}</td>'
    '\n        <td class="text-end"><a href="{sessions}?list=after_hours&amp;counselor={pk}"'
    ' aria-label="{after_hours_label}">{after_hours}</a></td>'
    '\n        <td class="text-end"><a href="{sessions}?list=overnight&amp;counselor={pk}"'
    ' aria-label="{overnight_label}">{overnight}</a></td>'
    '\n        <td class="text-end"><a href="{sessions}?list=runs&amp;counselor={pk}"'
    ' aria-label="{runs_label}">{runs}</a>{longest}</td>'
    '\n        <td class="text-end"><a href="{sessions}?list=signed&amp;counselor={pk}"'
    ' aria-label="{signed_label}">{median}</a>'
    ' <span class="small text-body-secondary">{signed_count}</span></td>'
    '\n        <td class="text-end"><a href="{sessions}?list=returned&amp;counselor={pk}"'
    ' aria-label="{returned_label}">{returned}</a> {of}'
    ' <a href="{sessions}?list=reviewed&amp;counselor={pk}" aria-label="{reviewed_label}">'
    '{reviewed}</a> <span class="small text-body-secondary">({rate})</span></td>'
    '\n        <td class="text-end"><a href="{followups}?list=overdue&amp;counselor={pk}"'
    ' aria-label="{overdue_label}">{overdue}</a></td>'
    "\n      </tr>\n    "
)


def _v(value: Any) -> str:
    """A value as the template prints it: localized (numbers), then escaped. A count is its
    digits unless thousands are grouped (localize's lookups of the format, per number, were a
    third of building the table)."""
    if type(value) is int and not settings.USE_THOUSAND_SEPARATOR:
        return str(value)
    return conditional_escape(localize(value))


def _words(message: str, **values: Any) -> str:
    """A blocktranslate's answer: its words as translated, each value printed as by `_v`."""
    return message % {name: _v(value) for name, value in values.items()}


@register.simple_tag
def team_load_rows(rows: Iterable[Any], sessions_url: str, followups_url: str) -> SafeString:
    """The team load table's row of each counselor (sessions.selectors.load.CounselorLoad),
    built in Python: nine blocktranslates a row (the links' labels) through the template
    engine were most of the team page's rendering. The same markup as the template loop they
    replace (tests/sessions/test_load.py renders both and compares), every value escaped as
    autoescape does; the blocktranslates' words stay unescaped as the tag leaves them."""
    words = {
        "after_hours": _("%(after_hours)s after-hours contacts by %(display_name)s"),
        "overnight": _("%(overnight)s overnight contacts by %(display_name)s"),
        "runs": _("%(runs)s high-risk runs by %(display_name)s"),
        "longest": _("(longest %(longest_run)s)"),
        "signed": _(
            "Median time to signature %(median_to_sign)s over %(signed)s signed notes by "
            "%(display_name)s"
        ),
        "signed_count": _("(%(signed)s signed)"),
        "returned": _("%(returned)s of %(reviewed)s notes returned, by %(display_name)s"),
        "reviewed": _("%(reviewed)s notes sent for co-signature by %(display_name)s"),
        "overdue": _("%(overdue_followups)s overdue follow-ups of %(display_name)s"),
    }
    of = _v(_("of"))
    sessions, followups = _v(sessions_url), _v(followups_url)
    items = []
    for row in rows:
        c = row.counselor
        name = c.display_name
        median = hours_minutes(row.median_to_sign)
        longest = (
            ' <span class="small text-body-secondary">{}</span>'.format(
                _words(words["longest"], longest_run=row.longest_run)
            )
            if row.longest_run
            else ""
        )
        items.append(
            _LOAD_ROW.format(
                username=_v(c.username),
                name=_v(name),
                pk=_v(c.pk),
                sessions=sessions,
                followups=followups,
                contacts=_v(row.contacts),
                after_hours=_v(row.after_hours),
                after_hours_label=_words(
                    words["after_hours"], after_hours=row.after_hours, display_name=name
                ),
                overnight=_v(row.overnight),
                overnight_label=_words(
                    words["overnight"], overnight=row.overnight, display_name=name
                ),
                runs=_v(row.runs),
                runs_label=_words(words["runs"], runs=row.runs, display_name=name),
                longest=longest,
                median=_v(median),
                signed_label=_words(
                    words["signed"], median_to_sign=median, signed=row.signed, display_name=name
                ),
                signed_count=_words(words["signed_count"], signed=row.signed),
                returned=_v(row.returned),
                returned_label=_words(
                    words["returned"],
                    returned=row.returned,
                    reviewed=row.reviewed,
                    display_name=name,
                ),
                of=of,
                reviewed=_v(row.reviewed),
                reviewed_label=_words(words["reviewed"], reviewed=row.reviewed, display_name=name),
                rate=_v(percent(row.return_rate)),
                overdue=_v(row.overdue_followups),
                overdue_label=_words(
                    words["overdue"], overdue_followups=row.overdue_followups, display_name=name
                ),
            )
        )
    return mark_safe("".join(items))  # noqa: S308 — every value escaped


_WORKLOAD_ROW = (
    "\n      <tr>"
    '\n        <th scope="row" class="fw-normal">{name}</th>'
    '\n        <td class="text-end"><a href="{sessions}?list=week&amp;counselor={pk}"'
    ' aria-label="{week_label}">{week}</a></td>'
    '\n        <td class="text-end"><a href="{sessions}?list=week&amp;counselor={pk}&amp;risk=high"'
    ' aria-label="{high_label}">{high}</a></td>'
    "\n      </tr>\n    "
)


@register.simple_tag
def workload_rows(members: Iterable[Any], sessions_url: str) -> SafeString:
    """The dashboard's "Workload this week" rows (sessions.selectors.review.team_dashboard's
    workload: members with sessions_week and high_risk_week), built in Python as
    team_load_rows is: two blocktranslates a row through the template engine were a quarter of
    the dashboard's rendering. The same markup as the template loop they replace
    (tests/sessions/test_load.py renders both and compares)."""
    week_words = _("%(sessions_week)s sessions this week by %(display_name)s")
    high_words = _("%(high_risk_week)s high-risk sessions this week by %(display_name)s")
    sessions = _v(sessions_url)
    items = []
    for member in members:
        name = member.display_name
        week, high = member.sessions_week, member.high_risk_week
        items.append(
            _WORKLOAD_ROW.format(
                name=_v(name),
                sessions=sessions,
                pk=_v(member.pk),
                week_label=_words(week_words, sessions_week=week, display_name=name),
                week=_v(week),
                high_label=_words(high_words, high_risk_week=high, display_name=name),
                high=_v(high),
            )
        )
    return mark_safe("".join(items))  # noqa: S308 — every value escaped
