"""sessions.risk: the governing risk in SQL and in Python agree on every combination of
clinician level × screen level × imminent (both levels including "not set"), directly on the
note and through a relation, on PostgreSQL and on SQLite (the embedded default); and one label
and one filter say it in words."""

from __future__ import annotations

import itertools

import pytest
from django.db import connections
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteWrapper
from django.template import Context, Template
from django.utils import timezone

from sessions.models import Client, CrisisSession
from sessions.risk import (
    NOT_ASSESSED,
    RiskLevel,
    governing_risk,
    governing_risk_expr,
    governing_risk_q,
    high_risk_q,
    is_high_risk,
    risk_label,
)
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db

LEVELS = ["", *RiskLevel.values]  # "" = not set (not screened / not formulated)
COMBOS = list(itertools.product(LEVELS, LEVELS, [False, True]))


@pytest.fixture
def grid(counselor) -> dict[int, tuple[str, str, bool]]:
    """One note per combination, each with its own client (to reach it through a relation)."""
    combos = {}
    for clinician, screen, imminent in COMBOS:
        note = CrisisSession.objects.create(
            clinic=counselor.clinic,
            client=ClientFactory.create(clinic=counselor.clinic, created_by=counselor),
            author=counselor,
            modality="phone",
            started_at=timezone.now(),
            clinician_risk=clinician,
            screen_risk=screen,
            imminent=imminent,
        )
        combos[note.pk] = (clinician, screen, imminent)
    return combos


def test_the_governing_level_is_the_same_in_sql_and_python_for_every_combination(grid):
    assert len(grid) == 5 * 5 * 2
    in_sql = dict(
        CrisisSession.objects.annotate(level=governing_risk_expr()).values_list("pk", "level")
    )
    for pk, (clinician, screen, _imminent) in grid.items():
        assert in_sql[pk] == governing_risk(clinician=clinician, screen=screen), (clinician, screen)
        note = CrisisSession.objects.get(pk=pk)
        assert note.risk_level == in_sql[pk]


@pytest.mark.parametrize("level", LEVELS)
def test_filtering_by_a_level_matches_python_for_every_combination(grid, level):
    in_sql = set(CrisisSession.objects.filter(governing_risk_q(level)).values_list("pk", flat=True))
    in_python = {
        pk
        for pk, (clin, screen, _) in grid.items()
        if governing_risk(clinician=clin, screen=screen) == level
    }
    assert in_sql == in_python
    # Through a relation (the prefix the dashboard's per-counselor counts use).
    clients = set(
        Client.objects.filter(governing_risk_q(level, "sessions__")).values_list("pk", flat=True)
    )
    assert clients == set(
        CrisisSession.objects.filter(pk__in=in_python).values_list("client_id", flat=True)
    )


def test_high_risk_is_the_same_in_sql_and_python_for_every_combination(grid):
    in_sql = set(CrisisSession.objects.filter(high_risk_q()).values_list("pk", flat=True))
    in_python = {
        pk
        for pk, (clinician, screen, imminent) in grid.items()
        if is_high_risk(clinician=clinician, screen=screen, imminent=imminent)
    }
    assert in_sql == in_python
    # Hand count: imminent (25), or not imminent with a governing "high": the clinician's high
    # (5 screen values) or no clinician level and the screen's high (1).
    assert len(in_python) == 25 + 5 + 1
    assert {n.pk for n in CrisisSession.objects.filter(pk__in=grid) if n.is_high_risk} == in_python
    clients = set(Client.objects.filter(high_risk_q("sessions__")).values_list("pk", flat=True))
    assert clients == set(
        CrisisSession.objects.filter(pk__in=in_python).values_list("client_id", flat=True)
    )


@pytest.fixture
def sqlite_notes():
    """The note table alone in an in-memory SQLite database (the embedded default's dialect),
    with one row per combination; foreign keys are not checked (nothing else exists there)."""
    alias = "risk_parity_sqlite"
    wrapper = SQLiteWrapper(
        {
            **connections["default"].settings_dict,
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": ":memory:",
            "OPTIONS": {},
        },
        alias=alias,
    )
    connections[alias] = wrapper
    try:
        with wrapper.schema_editor() as editor:
            editor.create_model(CrisisSession)
        wrapper.disable_constraint_checking()
        now = timezone.now()
        CrisisSession.objects.using(alias).bulk_create(
            CrisisSession(
                pk=number,
                clinic_id=1,
                client_id=1,
                author_id=1,
                modality="phone",
                started_at=now,
                clinician_risk=clinician,
                screen_risk=screen,
                imminent=imminent,
            )
            for number, (clinician, screen, imminent) in enumerate(COMBOS, start=1)
        )
        yield CrisisSession.objects.using(alias)
    finally:
        wrapper.close()
        del connections[alias]


def test_sqlite_computes_the_same_governing_risk_for_every_combination(sqlite_notes):
    assert connections[sqlite_notes.db].vendor == "sqlite"
    combos = dict(enumerate(COMBOS, start=1))
    levels = dict(sqlite_notes.annotate(level=governing_risk_expr()).values_list("pk", "level"))
    assert levels == {pk: governing_risk(clinician=c, screen=s) for pk, (c, s, _) in combos.items()}
    for level in LEVELS:
        assert set(sqlite_notes.filter(governing_risk_q(level)).values_list("pk", flat=True)) == {
            pk for pk, found in levels.items() if found == level
        }
    assert set(sqlite_notes.filter(high_risk_q()).values_list("pk", flat=True)) == {
        pk for pk, (c, s, i) in combos.items() if is_high_risk(clinician=c, screen=s, imminent=i)
    }


def test_a_clinician_level_governs_even_below_the_screen():
    assert governing_risk(clinician=RiskLevel.LOW, screen=RiskLevel.HIGH) == RiskLevel.LOW
    assert governing_risk(clinician="", screen=RiskLevel.HIGH) == RiskLevel.HIGH
    assert not is_high_risk(clinician=RiskLevel.LOW, screen=RiskLevel.HIGH, imminent=False)
    assert is_high_risk(clinician=RiskLevel.LOW, screen=RiskLevel.LOW, imminent=True)


@pytest.mark.parametrize("level", [*LEVELS, None])
def test_one_label_in_python_and_in_templates(level):
    expected = {
        "": NOT_ASSESSED,
        None: NOT_ASSESSED,
        "none": "None",
        "low": "Low",
        "moderate": "Moderate",
        "high": "High",
    }[level]
    assert risk_label(level) == expected
    rendered = Template("{% load risk_tags %}{{ level|risk_label }}").render(
        Context({"level": level})
    )
    assert rendered == expected


def test_the_risk_badge_tag_gives_each_note_the_partials_markup():
    """{% risk_badge %} renders the partial once per distinct risk and reuses it: every note of
    a list must still get exactly what including the partial gives it."""
    from itertools import product

    from django.template import Context, Template
    from django.template.loader import render_to_string

    from sessions.models import CrisisSession

    levels = ["", "low", "moderate", "high"]
    notes = [
        CrisisSession(imminent=imminent, screen_risk=screen, clinician_risk=clinician)
        for imminent, screen, clinician in product([False, True], levels, levels)
    ]
    notes += notes  # repeated risks reuse the first rendering
    page = Template(
        "{% load risk_tags %}{% for note in notes %}<li>{% risk_badge note %}</li>{% endfor %}"
    ).render(Context({"notes": notes}))
    expected = "".join(
        f"<li>{render_to_string('sessions/review/partials/risk_badge.html', {'note': n})}</li>"
        for n in notes
    )
    assert page == expected
    assert (
        len(
            {
                render_to_string("sessions/review/partials/risk_badge.html", {"note": n})
                for n in notes
            }
        )
        > 10
    )
