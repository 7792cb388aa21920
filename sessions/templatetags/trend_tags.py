"""The risk trend's per-session markup (sessions/risk_trend.py), built in Python: each of up to
20 sessions drew a circle, a square, a mark, an arrow, two SUDS shapes, a label and a table row
through the template engine, every coordinate through `floatformat`, every <title> through a
blocktranslate and every level's label through a lazy translation: the larger part of the
client page's own time (bench/README.md, issue 15). The same markup as the template loops they
replace (tests/sessions/test_review_trend.py renders both and compares), every value escaped as
autoescape does; the blocktranslates' words stay unescaped as the tag leaves them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django import template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from crisisnotes.html import autoescaped
from sessions.risk import risk_label
from sessions.risk_trend import TrendPoint

register = template.Library()

_TENTH = Decimal("0.1")


def _coord(value: float) -> str:
    """`value|floatformat:'1u'`: one decimal, rounded half up from the number's shortest
    repr (as the filter does, not as "%.1f" does), never localized."""
    return str(Decimal(str(value)).quantize(_TENTH, ROUND_HALF_UP))


@register.filter
def coord(value: float) -> str:
    """`value|floatformat:'1u'` for the chart's grid lines (_coord; the filter localizes and
    parses its argument at each of the grid's 21 coordinates)."""
    return _coord(value)


def _html(markup: str, *values: Any) -> str:
    """`format_html` for the plain values of these items (each escaped by `autoescaped`)."""
    return markup.format(*(autoescaped(value) for value in values))


class _Words:
    """The page's translations, looked up once per render rather than once per session: the
    blocktranslates' messages and the risk levels' labels."""

    def __init__(self) -> None:
        self.screen = _("%(date)s: screen risk %(screen_label)s")
        self.clinician = _("%(date)s: clinician risk %(clinician_label)s")
        self.imminent = _("%(date)s: imminent risk")
        self.suds_start = _("%(date)s: SUDS at start %(suds_start)s")
        self.suds_end = _("%(date)s: SUDS at end %(suds_end)s")
        self.yes, self.no = autoescaped(_("Yes")), autoescaped(_("No"))
        self._labels: dict[str, str] = {}

    def label(self, level: str) -> str:
        label = self._labels.get(level)
        if label is None:
            label = self._labels[level] = risk_label(level)
        return label

    @staticmethod
    def fill(message: str, **values: Any) -> str:
        """A blocktranslate's answer: its words as translated, each value escaped."""
        return message % {name: autoescaped(value) for name, value in values.items()}


_CIRCLE = (
    '<circle cx="{}" cy="{}" r="5" fill="#fff" stroke="#6c757d" stroke-width="2">'
    "<title>{}</title></circle>"
)
_SQUARE = '<rect x="{}" y="{}" width="8" height="8" fill="#212529"><title>{}</title></rect>'
_IMMINENT = (
    '<text x="{}" y="{}" font-size="11" font-weight="bold" text-anchor="middle" fill="#b02a37">'
    "!<title>{}</title></text>"
)
_ARROW = (
    '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#212529" stroke-width="1.5"'
    ' marker-end="url(#trend-arrow)"/>'
)
_TRIANGLE = (
    '<path d="M{},{} l6,10 h-12 z" fill="#fff" stroke="#6c757d" stroke-width="2">'
    "<title>{}</title></path>"
)
_DIAMOND = '<path d="M{},{} l6,6 l-6,6 l-6,-6 z" fill="#212529"><title>{}</title></path>'
_DATE_LABEL = (
    '\n          <text x="{}" y="{}" font-size="9" text-anchor="middle" fill="#212529">{}</text>'
    "\n        "
)
_TABLE_ROW = (
    '\n          <tr><th scope="row" class="fw-normal">{}</th><td>{}</td><td>{}</td><td>{}</td>'
    "<td>{} → {}</td></tr>\n        "
)
# Between the markers of one session, as the template's lines left them.
_LINE = "\n          "
_END = "\n        "


def _risk_markers(p: TrendPoint, imminent_y: int, words: _Words) -> str:
    x = _coord(p.x)
    circle = square = imminent = ""
    if p.screen_y is not None:
        title = words.fill(words.screen, date=p.date, screen_label=words.label(p.screen))
        circle = _CIRCLE.format(x, _coord(p.screen_y), title)
    box = p.clinician_box
    if box is not None:
        title = words.fill(words.clinician, date=p.date, clinician_label=words.label(p.clinician))
        square = _SQUARE.format(_coord(box[0]), _coord(box[1]), title)
    if p.imminent:
        imminent = _IMMINENT.format(x, imminent_y, words.fill(words.imminent, date=p.date))
    return f"{_LINE}{circle}{_LINE}{square}{_LINE}{imminent}{_END}"


def _suds_markers(p: TrendPoint, words: _Words) -> str:
    x = _coord(p.x)
    arrow = triangle = diamond = ""
    if p.suds_start_y is not None and p.suds_end_y is not None and p.suds_start != p.suds_end:
        arrow = _ARROW.format(x, x, _coord(p.suds_start_y), _coord(p.suds_end_y))
    if p.suds_start_top is not None:
        title = words.fill(words.suds_start, date=p.date, suds_start=p.suds_start)
        triangle = _TRIANGLE.format(x, _coord(p.suds_start_top), title)
    if p.suds_end_top is not None:
        title = words.fill(words.suds_end, date=p.date, suds_end=p.suds_end)
        diamond = _DIAMOND.format(x, _coord(p.suds_end_top), title)
    return f"{_LINE}{arrow}{_LINE}{triangle}{_LINE}{diamond}{_END}"


@register.simple_tag
def risk_trend_items(trend: dict[str, Any], part: str) -> SafeString:
    """The markup of every session for one `part` of the trend: "risk" (screen circle,
    clinician square, imminent mark), "suds" (arrow, start triangle, end diamond), "dates" (the
    axis labels) or "table" (the rows of the table below the chart)."""
    words = _Words()
    items: list[str] = []
    if part == "risk":
        imminent_y = trend["risk_top"] - 9
        items = [_risk_markers(p, imminent_y, words) for p in trend["points"]]
    elif part == "suds":
        items = [_suds_markers(p, words) for p in trend["points"]]
    elif part == "dates":
        y = trend["axis_labels_y"]
        items = [_html(_DATE_LABEL, _coord(p.x), y, p.date[5:]) for p in trend["date_labels"]]
    elif part == "table":
        items = [
            _html(
                _TABLE_ROW,
                p.date,
                words.label(p.screen),
                words.label(p.clinician),
                mark_safe(words.yes if p.imminent else words.no),  # noqa: S308 — escaped
                "—" if p.suds_start is None else p.suds_start,
                "—" if p.suds_end is None else p.suds_end,
            )
            for p in trend["points"]
        ]
    else:
        raise ValueError(part)
    return mark_safe("".join(items))  # noqa: S308 — every value escaped by autoescaped
