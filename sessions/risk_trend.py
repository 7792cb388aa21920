"""The client page's risk trend panel, for supervisors reviewing a client: a small
server-rendered SVG of screen and clinician risk and SUDS start→end over the client's sessions,
readable without colour (each series has its own marker shape and a legend in words, every marker
a <title>, and a table with the same numbers). The client page shows it beside the panels the
note's sections add."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from crisisnotes.accounts.models import User
from sessions.models import Client
from sessions.models.notes import RiskLevel
from sessions.registry import ClientPanel
from sessions.risk import risk_label
from sessions.selectors.review import client_trend_rows

# --- client panel: risk trend ----------------------------------------------------------------

RISK_LEVELS = [RiskLevel.NONE, RiskLevel.LOW, RiskLevel.MODERATE, RiskLevel.HIGH]

# Geometry of the SVG (user units; the viewBox scales it to the column).
WIDTH = 480
LEFT = 78
RIGHT = 12
PANEL_HEIGHT = 96
RISK_TOP = 26
SUDS_TOP = RISK_TOP + PANEL_HEIGHT + 34
AXIS_LABELS_Y = SUDS_TOP + PANEL_HEIGHT + 16
HEIGHT = AXIS_LABELS_Y + 8


@dataclass(frozen=True)
class TrendPoint:
    x: float
    date: str
    screen: str  # risk level value or ""
    clinician: str
    imminent: bool
    suds_start: int | None
    suds_end: int | None
    screen_y: float | None
    clinician_y: float | None
    suds_start_y: float | None
    suds_end_y: float | None

    # Markers drawn from their top-left corner or top vertex, offset from the point in Python:
    # the template's `add` filter tries int() first, so `x|add:-4` dropped the fraction and put
    # a marker up to one unit off its point and its line.
    @property
    def clinician_box(self) -> tuple[float, float] | None:
        """Top-left corner of the clinician-risk square (8 × 8, centred on the point)."""
        return None if self.clinician_y is None else (self.x - 4, self.clinician_y - 4)

    @property
    def suds_start_top(self) -> float | None:
        """Top vertex of the SUDS-at-start triangle (its centroid near the point)."""
        return None if self.suds_start_y is None else self.suds_start_y - 6

    @property
    def suds_end_top(self) -> float | None:
        """Top vertex of the SUDS-at-end diamond (12 high, centred on the point)."""
        return None if self.suds_end_y is None else self.suds_end_y - 6

    @property
    def screen_label(self) -> str:
        return risk_label(self.screen)

    @property
    def clinician_label(self) -> str:
        return risk_label(self.clinician)


def _risk_y(level: str) -> float | None:
    if level not in RISK_LEVELS:
        return None
    index = RISK_LEVELS.index(RiskLevel(level))
    return RISK_TOP + PANEL_HEIGHT - index * PANEL_HEIGHT / (len(RISK_LEVELS) - 1)


def _suds_y(value: int | None) -> float | None:
    if value is None:
        return None
    return SUDS_TOP + PANEL_HEIGHT - value * PANEL_HEIGHT / 10


def _polyline(points: list[tuple[float, float | None]]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in points if y is not None)


def risk_trend_context(client: Client, user: User) -> dict[str, Any]:
    notes = client_trend_rows(user=user, client=client)
    count = len(notes)
    span = WIDTH - LEFT - RIGHT
    step = span / max(count - 1, 1)
    points = []
    for i, note in enumerate(notes):
        suds_start, suds_end = note.suds_start, note.suds_end
        x = LEFT + (i * step if count > 1 else span / 2)
        points.append(
            TrendPoint(
                x=x,
                date=f"{timezone.localtime(note.started_at):%Y-%m-%d}",
                screen=note.screen_risk,
                clinician=note.clinician_risk,
                imminent=note.imminent,
                suds_start=suds_start,
                suds_end=suds_end,
                screen_y=_risk_y(note.screen_risk),
                clinician_y=_risk_y(note.clinician_risk),
                suds_start_y=_suds_y(suds_start),
                suds_end_y=_suds_y(suds_end),
            )
        )
    # Date labels under the axis: all of them when few, else about six, so they never overlap.
    every = max(1, (count + 5) // 6)
    return {
        "trend": {
            "points": points,
            "date_labels": [p for i, p in enumerate(points) if i % every == 0],
            "width": WIDTH,
            "height": HEIGHT,
            "left": LEFT,
            "right": WIDTH - RIGHT,
            "risk_top": RISK_TOP,
            "suds_top": SUDS_TOP,
            "panel_height": PANEL_HEIGHT,
            "axis_labels_y": AXIS_LABELS_Y,
            "risk_grid": [(risk_label(level), _risk_y(level)) for level in RISK_LEVELS],
            "suds_grid": [(value, _suds_y(value)) for value in (0, 5, 10)],
            "screen_line": _polyline([(p.x, p.screen_y) for p in points]),
            "clinician_line": _polyline([(p.x, p.clinician_y) for p in points]),
        }
    }


RISK_TREND_PANEL = ClientPanel(
    key="risk_trend",
    order=50,
    template_name="sessions/review/partials/risk_trend.html",
    context=risk_trend_context,
)
