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
