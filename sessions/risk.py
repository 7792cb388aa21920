"""The governing risk of a note, once: in SQL, in Python, and in words.

The level that governs a note is the clinician's when formulated, else the screen's; a note is
"high risk" when that level is high or the imminent flag is set (CLINICAL.md). Both levels and the
flag are denormalised onto the note row (the safety app's services keep them there), so the SQL
expression reads one row. Everything that filters, counts or shows the governing risk goes
through this module; tests/sessions/test_risk.py proves the SQL and Python halves agree on every
combination of clinician level × screen level × imminent.

Deliberately not here: the live board's *higher* of the two levels and the supervision read rule
(either level moderate or high), which read both levels on purpose (sessions.policies).
"""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q, Value
from django.db.models.expressions import Combinable
from django.db.models.functions import Coalesce, NullIf
from django.db.models.lookups import Exact
from django.utils.translation import gettext_lazy


class RiskLevel(models.TextChoices):
    NONE = "none", gettext_lazy("None")
    LOW = "low", gettext_lazy("Low")
    MODERATE = "moderate", gettext_lazy("Moderate")
    HIGH = "high", gettext_lazy("High")

    @classmethod
    def rank(cls, value: str) -> int:
        """Order for comparisons ("clinician level below screen level"); blank ranks lowest."""
        return {"": -1, cls.NONE: 0, cls.LOW: 1, cls.MODERATE: 2, cls.HIGH: 3}[value]


NOT_ASSESSED = gettext_lazy("Not assessed")
_LABELS = dict(RiskLevel.choices)


# --- Python ---------------------------------------------------------------------------------


def governing_risk(*, clinician: str, screen: str) -> str:
    """The level that governs: the clinician's when set, else the screen's ("" when neither)."""
    return clinician or screen


def is_high_risk(*, clinician: str, screen: str, imminent: bool) -> bool:
    """High or imminent, as every page, queue, count and sign rule means it."""
    return imminent or governing_risk(clinician=clinician, screen=screen) == RiskLevel.HIGH


def risk_label(level: str | None) -> str:
    """One vocabulary for a level wherever it is shown: None / Low / Moderate / High, and
    "Not assessed" when nothing was screened or formulated."""
    return str(_LABELS.get(level or "", NOT_ASSESSED))


# --- SQL, the twin of the above -------------------------------------------------------------


def governing_risk_expr(prefix: str = "") -> Combinable:
    """SQL for governing_risk. `prefix` reaches the note through a relation
    ("authored_sessions__"). The columns are NOT NULL and blank means "not set": NULLIF turns
    a blank clinician level into NULL so COALESCE falls back to the screen's."""
    return Coalesce(
        NullIf(F(f"{prefix}clinician_risk"), Value("")),
        F(f"{prefix}screen_risk"),
    )


def governing_risk_q(level: str, prefix: str = "") -> Q:
    """Notes whose governing level is `level` ("" for notes not assessed at all)."""
    return Q(Exact(governing_risk_expr(prefix), Value(level)))


def high_risk_q(prefix: str = "") -> Q:
    """SQL for is_high_risk."""
    return Q(**{f"{prefix}imminent": True}) | governing_risk_q(RiskLevel.HIGH, prefix)
