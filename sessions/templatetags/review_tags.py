"""Template helpers for the review partials that the note page includes (supervision owns them).
They read through sessions.selectors.review, which caches the thread on the note: a page that
includes the comment partial beside every section still runs one query for the thread."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo
from typing import Any

from django import template
from django.forms import BaseFormSet
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import TIME_STRINGS, timesince
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from crisisnotes.html import autoescaped, pk_url_parts
from sessions.forms.review import ReturnFormSet
from sessions.models import CrisisSession, ReviewComment
from sessions.selectors.review import (
    FollowupRow,
    QueueRow,
    ReviewRound,
    review_comment_list,
    review_rounds,
)
from sessions.templatetags.risk_tags import risk_badge

register = template.Library()


@register.simple_tag
def section_review_comments(note: CrisisSession, section_key: str) -> list[ReviewComment]:
    return [c for c in review_comment_list(note=note) if c.section_key == (section_key or "")]


@register.simple_tag
def note_review_rounds(note: CrisisSession) -> list[ReviewRound]:
    return review_rounds(note=note)


@register.simple_tag
def latest_review_round(note: CrisisSession) -> int:
    comments = review_comment_list(note=note)
    return comments[-1].round if comments else 0


@register.simple_tag
def return_formset(existing: Any = None) -> Any:
    # Bound and invalid when the review page is shown again after a failed return; "" (Django's
    # value for a missing variable) on the note page.
    return existing if isinstance(existing, BaseFormSet) else ReturnFormSet(prefix="comment")


@register.filter
def section_title(section_key: str) -> str:
    from sessions import registry

    if not section_key:
        return _("Whole note")
    try:
        return str(registry.section(section_key).title)
    except KeyError:
        return section_key


class _TimeWord:
    """One of timesince's TIME_STRINGS ("%(num)d hours"), formatted once per language and number:
    the lazy plural looked up its translation at every use, about half of timesince's time, and
    the queue and the team's follow-ups call it for each of up to 200 rows. Same words."""

    _done: dict[tuple[str | None, str, int], str] = {}

    def __init__(self, name: str, language: str | None = None) -> None:
        self.name = name
        self.language = language  # None: the active language at each use

    def __mod__(self, params: dict[str, int]) -> str:
        key = (self.language or get_language(), self.name, params["num"])
        text = self._done.get(key)
        if text is None:
            text = self._done[key] = TIME_STRINGS[self.name] % params
        return text


_TIME_WORDS = {name: _TimeWord(name) for name in TIME_STRINGS}


def _timesince(value: datetime) -> str:
    return timesince(value, time_strings=_TIME_WORDS)  # type: ignore[arg-type]


@register.filter
def elapsed(value: datetime | None) -> str:
    """How long since `value`, in words; under a minute is "less than a minute" (timesince alone
    says "0 minutes", which reads like a bug)."""
    if value is None:
        return ""
    if timezone.now() - value < timedelta(minutes=1):
        return _("less than a minute")
    return _timesince(value)


@register.filter
def ago(value: datetime | None) -> str:
    """ "just now" for the last minute, else "3 hours ago"."""
    if value is None:
        return ""
    if timezone.now() - value < timedelta(minutes=1):
        return _("just now")
    return _("%(time)s ago") % {"time": _timesince(value)}


_MONTHS_DAYS = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_UNITS = list(TIME_STRINGS)  # year, month, week, day, hour, minute
_CHUNKS = (60 * 60 * 24 * 7, 60 * 60 * 24, 60 * 60, 60)


def _since(d: datetime, now: datetime, words: dict[str, _TimeWord], comma: str) -> str:
    """django.utils.timesince.timesince(d, now, time_strings=words) of two aware datetimes
    (depth 2), its separator (`gettext(", ")`) translated once by the caller: Django's looked
    it up at each call, ~40 % of the time of the review queue's 200 "ago"s. The same steps as
    Django 5.2's; tests/sessions/test_review_views.py compares the two on a grid of gaps."""
    now = now.astimezone(d.tzinfo)
    delta = now - d
    if delta.days * 24 * 60 * 60 + delta.seconds <= 0:
        return (words["minute"] % {"num": 0}).replace(" ", "\xa0")
    total_months = (now.year - d.year) * 12 + (now.month - d.month)
    if d.day > now.day or (d.day == now.day and d.time() > now.time()):
        total_months -= 1
    years, months = divmod(total_months, 12)
    if years or months:
        pivot_year = d.year + years
        pivot_month = d.month + months
        if pivot_month > 12:
            pivot_month -= 12
            pivot_year += 1
        pivot = datetime(
            pivot_year,
            pivot_month,
            min(_MONTHS_DAYS[pivot_month - 1], d.day),
            d.hour,
            d.minute,
            d.second,
            tzinfo=d.tzinfo,
        )
    else:
        pivot = d
    remaining = (now - pivot).total_seconds()
    partials = [years, months]
    for chunk in _CHUNKS:
        count = int(remaining // chunk)
        partials.append(count)
        remaining -= chunk * count
    first = next((i for i, value in enumerate(partials) if value != 0), None)
    if first is None:
        return (words["minute"] % {"num": 0}).replace(" ", "\xa0")
    result = []
    for i in range(first, min(first + 2, len(_UNITS))):
        if partials[i] == 0:
            break
        result.append((words[_UNITS[i]] % {"num": partials[i]}).replace(" ", "\xa0"))
    return comma.join(result)


class _Ago:
    """`ago` for every row of one list: the clock read, the words translated and the language
    looked up once (per row they were most of the review queue's "ago"). Same words."""

    def __init__(self) -> None:
        self.now = timezone.now()
        language = get_language()
        self.words = {name: _TimeWord(name, language) for name in TIME_STRINGS}
        self.comma = _(", ")
        self.just_now = _("just now")
        self.ago = _("%(time)s ago")

    def __call__(self, value: datetime | None) -> str:
        if value is None:
            return ""
        if self.now - value < timedelta(minutes=1):
            return self.just_now
        return self.ago % {"time": _since(value, self.now, self.words, self.comma)}


class _Elapsed(_Ago):
    """`elapsed` for every row of one list, as _Ago is `ago`."""

    def __init__(self) -> None:
        super().__init__()
        self.just_now = _("less than a minute")

    def __call__(self, value: datetime | None) -> str:
        if value is None:
            return ""
        if self.now - value < timedelta(minutes=1):
            return self.just_now
        return _since(value, self.now, self.words, self.comma)


@register.simple_tag
def others_drafts_in(notes: Any, user: Any) -> bool:
    """Whether a list of (already loaded) team sessions holds a draft the reader cannot open."""
    return any(note.is_draft and note.author_id != user.pk for note in notes)


_QUEUE_ROW = (
    "\n    <tr>"
    '\n      <td><a href="{}">{}</a></td>'
    "\n      <td>{}</td>"
    "\n      <td>{}</td>"
    "\n      <td>{}</td>"
    '\n      <td><time datetime="{}" title="{}">{}</time></td>'
    '\n      <td class="small">{}</td>'
    "\n    </tr>\n  "
)


def local_date(value: datetime | None, form: str, zone: tzinfo | None = None) -> str:
    """The `date` filter's answer: in the active (clinic's) time zone, "" for no date. The two
    forms every list row shows are written directly (Django's DateFormat builds an object and
    walks the format string per call, ~7x the time; the rows' tests compare with the filter).
    `zone`: the active time zone, read once by a caller that writes hundreds of dates."""
    if value is None:
        return ""
    local = timezone.localtime(value) if zone is None else value.astimezone(zone)
    if form == "c":
        return local.isoformat()  # what DateFormat.c returns
    if form == "Y-m-d H:i":
        return _minute(local)
    return date_format(local, form)


def _minute(local: datetime) -> str:
    """`local|date:"Y-m-d H:i"` of a local time."""
    day = f"{local.year:04d}-{local.month:02d}-{local.day:02d}"
    return f"{day} {local.hour:02d}:{local.minute:02d}"


@register.simple_tag(takes_context=True)
def review_queue_rows(context: template.Context, rows: Iterable[QueueRow]) -> SafeString:
    """The review queue's <tr> rows (sessions.selectors.review.queue_rows), built in Python: up
    to 200 notes of a dozen template nodes each (a `{% url %}`, three dates, "ago", the risk
    badge) were most of the page's time through the template engine (bench/README.md, issue
    15). The same markup as the template loop they replace (tests/sessions/test_review_views.py
    renders both, the loop from the notes themselves, and compares), every value escaped as
    autoescape does."""
    # Reversed once: the note's pk is the only part of the link that changes.
    before, after = pk_url_parts("crisis_sessions:review_note")
    ago_of = _Ago()
    items = []
    for row in rows:
        signed_at = row.signed_at
        if signed_at is None:
            signed_iso = signed = ""
        else:
            local = timezone.localtime(signed_at)
            signed_iso = local.isoformat()  # local_date(signed_at, "c")
            signed = _minute(local)  # local_date(signed_at, "Y-m-d H:i")
        items.append(
            _QUEUE_ROW.format(
                f"{before}{row.pk}{after}",
                autoescaped(row.client_alias),
                autoescaped(row.author_name),
                risk_badge(context, row),
                local_date(row.started_at, "Y-m-d H:i"),
                signed_iso,
                signed,
                autoescaped(ago_of(signed_at)),
                autoescaped(row.cosign_required_reason or "—"),
            )
        )
    return mark_safe("".join(items))  # noqa: S308 — every value escaped (dates and link: digits)


_FOLLOWUP_ROW = (
    "\n    <tr>"
    '\n      <td><time datetime="{}">{}</time>{}</td>'
    "\n      <td>{}</td>"
    "\n      <td>{}</td>"
    "\n      <td>{}</td>"
    "\n      <td>{}</td>"
    "\n    </tr>\n  "
)


@register.simple_tag
def team_followup_rows(tasks: Iterable[FollowupRow], list_name: str) -> SafeString:
    """The <tr> rows of a team follow-up list (up to 200 tasks, sessions.selectors.review's
    followup_rows), built in Python for the same
    reason as review_queue_rows and tested the same way against the template loop they replace;
    the blocktranslate's words stay unescaped as the tag leaves them. Values are escaped by
    crisisnotes.html.autoescaped (format_html's lazy-string wrapper and SafeString per value were
    a third of the rows' time), and the words translated once a list, not per row."""
    overdue_words = _("(%(due_at)s overdue)") if list_name == "overdue" else ""
    elapsed_of = _Elapsed()
    method_words: dict[str, str] = {}
    rows = []
    for task in tasks:
        late = (
            ' <span class="small">'
            + overdue_words % {"due_at": autoescaped(elapsed_of(task.due_at))}
            + "</span>"
            if overdue_words
            else ""
        )
        method = method_words.get(task.method)
        if method is None:
            method = method_words[task.method] = autoescaped(task.get_method_display())
        rows.append(
            _FOLLOWUP_ROW.format(
                autoescaped(local_date(task.due_at, "c")),
                autoescaped(local_date(task.due_at, "Y-m-d H:i")),
                late,
                autoescaped(task.client_alias),
                autoescaped(task.assignee_name),
                method,
                autoescaped(task.purpose or "—"),
            )
        )
    return mark_safe("".join(rows))  # noqa: S308 — every value escaped by autoescaped
