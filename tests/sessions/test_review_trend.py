import re
from datetime import UTC, datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string

from sessions.models.notes import NoteStatus, RiskLevel
from sessions.risk_trend import RISK_TREND_PANEL
from sessions.sign_rules import clinic_policy_high_risk, cosign_reasons
from tests.factories import ClientFactory, CrisisSessionFactory, NoteFactory

pytestmark = pytest.mark.django_db


def _panel():
    return RISK_TREND_PANEL


def nov(day: int) -> datetime:
    return datetime(2026, 11, day, 10, tzinfo=UTC)


def suds(start: int, end: int) -> dict:
    """The exploration stage's distress ratings, at the start and the end of the session."""
    return {"exploration": {"suds_start": start, "suds_end": end}}


def test_trend_charts_the_clients_sessions_in_order_with_shapes_and_text(
    clinic, counselor, teammate
):
    client = ClientFactory(clinic=clinic, created_by=counselor)
    NoteFactory.create(
        client=client,
        author=counselor,
        started_at=nov(12),
        status=NoteStatus.SIGNED,
        screen_risk=RiskLevel.HIGH,
        stage_text=suds(9, 6),
    )
    NoteFactory.create(
        client=client,
        author=teammate,
        started_at=nov(5),
        status=NoteStatus.SIGNED,
        screen_risk=RiskLevel.MODERATE,
        clinician_risk=RiskLevel.HIGH,
        imminent=True,
        stage_text=suds(8, 4),
    )
    # A draft: not the counselor's to see.
    NoteFactory.create(
        client=client, author=teammate, started_at=nov(20), screen_risk=RiskLevel.LOW
    )
    # Another client's.
    NoteFactory.create(author=counselor, started_at=nov(7), status=NoteStatus.SIGNED)

    context = _panel().context(client, counselor)
    points = context["trend"]["points"]

    assert [(p.date, p.screen, p.clinician, p.suds_start, p.suds_end) for p in points] == [
        ("2026-11-05", "moderate", "high", 8, 4),
        ("2026-11-12", "high", "", 9, 6),
    ]
    html = render_to_string(_panel().template_name, context)
    assert "<svg" in html and "cdn" not in html.lower()
    assert "2026-11-05: clinician risk High" in html  # <title> on the square marker
    assert "2026-11-12: SUDS at start 9" in html
    assert "2026-11-05: imminent risk" in html
    assert "<rect" in html and "<circle" in html  # distinct shapes, not colour alone
    assert "8 → 4" in html  # the table fallback
    # No formulation on the 12th: the review pages' word for blank, not "not formulated".
    assert "<td>High</td><td>Not assessed</td>" in html


def test_trend_of_a_client_without_sessions_says_so(clinic, counselor):
    client = ClientFactory(clinic=clinic, created_by=counselor)
    html = render_to_string(_panel().template_name, _panel().context(client, counselor))
    assert "No sessions to chart yet" in html


def test_trend_refuses_another_clinics_client(clinic, counselor, outsider):
    client = ClientFactory(clinic=clinic, created_by=counselor)
    with pytest.raises(PermissionDenied):
        _panel().context(client, outsider)


def test_clinic_policy_sends_high_risk_notes_to_cosign(clinic, counselor):
    record = ClientFactory(clinic=clinic, created_by=counselor)
    high = CrisisSessionFactory(
        clinic=clinic, client=record, author=counselor, screen_risk=RiskLevel.HIGH
    )
    moderate = CrisisSessionFactory(
        clinic=clinic, client=record, author=counselor, screen_risk=RiskLevel.MODERATE
    )
    assert clinic_policy_high_risk(high) is None  # policy off by default
    clinic.cosign_all_high_risk = True
    clinic.save()
    high.refresh_from_db()
    moderate.refresh_from_db()
    assert "Clinic policy" in (clinic_policy_high_risk(high) or "")
    assert clinic_policy_high_risk(moderate) is None
    assert any(r.startswith("Clinic policy") for r in cosign_reasons(high))  # signing asks it


def test_client_page_shows_the_trend_panel(client, clinic, counselor, clinic_admin):
    from django.urls import reverse

    from tests.conftest import login

    record = ClientFactory(clinic=clinic, created_by=counselor)
    NoteFactory.create(
        client=record,
        author=counselor,
        started_at=nov(12),
        status=NoteStatus.SIGNED,
        screen_risk=RiskLevel.MODERATE,
        stage_text=suds(7, 3),
    )
    for user in (counselor, clinic_admin):
        login(client, user)
        response = client.get(reverse("crisis_sessions:client_detail", args=[record.pk]))
        assert response.status_code == 200
        assert "2026-11-12: screen risk Moderate" in response.content.decode()


def test_every_marker_sits_on_its_point_to_a_tenth_of_a_unit(clinic, counselor):
    """Eight sessions put the points at fractional x (390 units / 7) and SUDS 3 and 7 at
    fractional y: the squares, triangles and diamonds are drawn from exactly their point minus
    half their size (the template's `add` filter used to drop the fraction first)."""
    client = ClientFactory(clinic=clinic, created_by=counselor)
    for day in range(1, 9):
        NoteFactory.create(
            client=client,
            author=counselor,
            started_at=nov(day),
            status=NoteStatus.SIGNED,
            clinician_risk=RiskLevel.MODERATE,
            stage_text=suds(3, 7),
        )
    context = _panel().context(client, counselor)
    points = context["trend"]["points"]
    assert any(p.x != int(p.x) for p in points) and points[0].suds_start_y != int(
        points[0].suds_start_y
    )
    html = render_to_string(_panel().template_name, context)
    squares = re.findall(
        r'<rect x="([\d.]+)" y="([\d.]+)" width="8" height="8" fill="#212529"><title>', html
    )
    assert squares == [(f"{p.x - 4:.1f}", f"{p.clinician_y - 4:.1f}") for p in points]
    triangles = re.findall(r'<path d="M([\d.]+),([\d.]+) l6,10 h-12 z"', html)
    assert triangles == [(f"{p.x:.1f}", f"{p.suds_start_y - 6:.1f}") for p in points]
    diamonds = re.findall(r'<path d="M([\d.]+),([\d.]+) l6,6 l-6,6 l-6,-6 z"', html)
    assert diamonds == [(f"{p.x:.1f}", f"{p.suds_end_y - 6:.1f}") for p in points]


def test_trend_items_are_the_markup_of_the_template_loops_they_replace(clinic, counselor):
    """risk_trend_items builds each session's markers, axis labels and table rows in Python for
    speed: the panel must give exactly what the template loops gave (tests/sessions/
    risk_trend_before_trend_items.html), for one session, a few and the most charted, fractional
    positions, missing and unchanged SUDS, blank levels, imminent marks, escaping, Spanish."""
    from dataclasses import replace
    from pathlib import Path

    from django.template import Context, Template
    from django.utils import translation

    from sessions.risk_trend import risk_trend_context

    loop = Path(__file__).with_name("risk_trend_before_trend_items.html").read_text()
    before = Template(loop)
    levels = ["", *RiskLevel.values]
    contexts = []
    for count in (1, 3, 8, 23):
        client = ClientFactory(clinic=clinic, created_by=counselor)
        for i in range(count):
            NoteFactory.create(
                client=client,
                author=counselor,
                started_at=datetime(2026, 1 + i % 12, 1 + i, 10, tzinfo=UTC),
                status=NoteStatus.SIGNED,
                screen_risk=levels[i % len(levels)],
                clinician_risk=levels[(i * 3) % len(levels)],
                imminent=i % 4 == 1,
                stage_text=suds(i % 11, (i * 7) % 11) if i % 5 != 2 else {},
            )
        contexts.append(risk_trend_context(client, counselor))
    odd = contexts[1]["trend"]["points"][0]
    contexts[1]["trend"]["points"][0] = replace(odd, date="2026-<b>&'\"")
    assert any(p.suds_start is None for p in contexts[3]["trend"]["points"])
    for language in ("en", "es"):
        with translation.override(language):
            for context in contexts:
                expected = before.render(Context(context))
                assert render_to_string(_panel().template_name, context) == expected
    assert "<b>" not in before.render(Context(contexts[1]))
    assert "-&lt;b&gt;&amp;&#x27;&quot;" in render_to_string(_panel().template_name, contexts[1])


def test_trend_coordinates_round_as_floatformat_does():
    from django.template.defaultfilters import floatformat

    from sessions.templatetags.trend_tags import _coord, coord

    values = [78 + i * 390 / n for n in range(1, 40) for i in range(n + 1)]
    values += [26 + 96 - i * 96 / 3 for i in range(4)] + [0.25, 0.35, 2.675, 1.05, 122.0, 0]
    values += [156 + 96 - v * 96 / 10 - d for v in range(11) for d in (0, 6)]
    for value in values:
        assert _coord(value) == coord(value) == floatformat(value, "1u"), value
