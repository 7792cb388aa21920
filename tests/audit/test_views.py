"""The audit log, the access report and the activity report: filters, pagination, CSV, scoping,
and query counts that do not grow with the log."""

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crisisnotes.audit.models import Action, AuditEvent
from crisisnotes.audit.services import audit_record, audit_record_for_clients
from sessions.services.notes import note_create
from tests.conftest import login
from tests.factories import ClientFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def harbour_client(clinic, counselor):
    return ClientFactory(clinic=clinic, created_by=counselor, alias="Caller, green coat")


def _table(response):
    """The events table only (the filter form lists every user)."""
    body = response.content.decode()
    start = body.index('id="audit-events"')
    return body[start : body.index("</table>", start)]


def _csv(response):
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


def test_opening_a_client_page_appears_in_the_access_report(
    client, counselor, teammate, clinic_admin, harbour_client
):
    login(client, teammate)
    client.get(reverse("crisis_sessions:client_detail", args=[harbour_client.pk]))
    login(client, clinic_admin)
    page = client.get(reverse("accounts:audit_client", args=[harbour_client.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Jamie Testmate" in body and "teammate1" in body
    assert "Caller, green coat" in body
    assert "127.0.0.1" in body


def test_search_results_and_notes_name_the_client(client, counselor, clinic_admin, harbour_client):
    note = note_create(author=counselor, client=harbour_client, modality="phone")
    login(client, counselor)
    client.get(reverse("crisis_sessions:client_search"), {"q": "green coat"})
    client.get(reverse("crisis_sessions:note_detail", args=[note.pk]))
    events = AuditEvent.objects.filter(client_id=harbour_client.pk, actor=counselor)
    assert {e.summary for e in events} >= {"Listed in client search results"}
    assert events.filter(object_type="crisis_sessions.crisissession").exists()


def test_filters_narrow_to_one_user_and_a_date_range(
    admin_client_, counselor, teammate, harbour_client, clinic
):
    audit_record(action=Action.VIEW, actor=counselor, obj=harbour_client)
    audit_record(action=Action.VIEW, actor=teammate, obj=harbour_client)
    url = reverse("accounts:audit_client", args=[harbour_client.pk])
    table = _table(admin_client_.get(url, {"actor": teammate.pk}))
    assert "Jamie Testmate" in table and "Robin Testcase" not in table
    today = timezone.localdate()
    old = admin_client_.get(url, {"date_to": (today - timedelta(days=3)).isoformat()})
    assert "No events match" in old.content.decode()


def test_the_log_finds_a_client_by_alias_or_number(
    admin_client_, counselor, harbour_client, clinic
):
    other = ClientFactory(clinic=clinic, created_by=counselor, alias="Caller, green hat")
    audit_record(action=Action.VIEW, actor=counselor, obj=harbour_client, summary="coat")
    audit_record(action=Action.VIEW, actor=counselor, obj=other, summary="hat")
    url = reverse("accounts:audit_log")
    by_alias = _table(admin_client_.get(url, {"client": "caller, GREEN COAT"}))
    assert "coat" in by_alias and "hat" not in by_alias
    by_number = _table(admin_client_.get(url, {"client": f"#{other.pk}"}))
    assert "hat" in by_number and "coat" not in by_number
    several = admin_client_.get(url, {"client": "green"}).content.decode()
    assert "Several clients match" in several
    nobody = admin_client_.get(url, {"client": "purple"}).content.decode()
    assert "No client of this clinic matches" in nobody


def test_an_invalid_filter_says_so_and_lists_nothing(admin_client_, counselor):
    audit_record(action=Action.LOGIN, actor=counselor)
    response = admin_client_.get(
        reverse("accounts:audit_log"), {"date_from": "2026-05-02", "date_to": "2026-05-01"}
    )
    body = response.content.decode()
    assert "must not be after" in body and "Correct the filters" in body
    bad_csv = admin_client_.get(reverse("accounts:audit_csv"), {"date_from": "not a date"})
    assert bad_csv.status_code == 400


def test_pagination_reaches_every_event(admin_client_, counselor, clinic, harbour_client):
    audit_record_for_clients(
        action=Action.VIEW,
        actor=counselor,
        clinic=clinic,
        client_ids=[harbour_client.pk] * 250,
        summary="bulk",
    )
    url = reverse("accounts:audit_log")
    first = admin_client_.get(url, {"action": "view"}).content.decode()
    assert "Page 1 of 3" in first and "(250 events)" in first
    last = admin_client_.get(url, {"action": "view", "page": 3}).content.decode()
    assert last.count("<tr>") == 1 + 50  # header row + the last 50 events


def test_a_log_longer_than_the_cap_is_not_counted_but_every_page_is_reached(
    admin_client_, counselor, clinic, harbour_client, monkeypatch
):
    from crisisnotes.audit import selectors

    monkeypatch.setattr(selectors, "COUNT_CAP", 120)
    audit_record_for_clients(
        action=Action.VIEW,
        actor=counselor,
        clinic=clinic,
        client_ids=[harbour_client.pk] * 250,
        summary="bulk",
    )
    url = reverse("accounts:audit_log")
    first = admin_client_.get(url, {"action": "view"}).content.decode()
    assert "Page 1 (more than 120 events: filter by date" in first
    assert "page=2" in first  # "Older"
    last = admin_client_.get(url, {"action": "view", "page": 3}).content.decode()
    assert last.count("<tr>") == 1 + 50 and "page=4" not in last and "page=2" in last
    # Past the end (a stale or typed URL): the last page, as before the cap.
    beyond = admin_client_.get(url, {"action": "view", "page": 99}).content.decode()
    assert beyond.count("<tr>") == 1 + 50 and "Page 3" in beyond
    # Under the cap the count stays exact.
    narrow = admin_client_.get(url, {"action": "view", "page": "x", "actor": counselor.pk})
    assert "Page 1 (more than 120" in narrow.content.decode()
    monkeypatch.setattr(selectors, "COUNT_CAP", 250)
    exact = admin_client_.get(url, {"action": "view"}).content.decode()
    assert "Page 1 of 3" in exact and "(250 events)" in exact
    # The access report's summary per person counts every event, whatever the cap.
    monkeypatch.setattr(selectors, "COUNT_CAP", 120)
    report = admin_client_.get(reverse("accounts:audit_client", args=[harbour_client.pk]))
    people = report.content.decode().split('id="people-heading"')[1].split("</section>")[0]
    assert "<td>250</td>" in people


def test_csv_has_exactly_the_filtered_rows(admin_client_, counselor, teammate, harbour_client):
    audit_record(action=Action.VIEW, actor=counselor, obj=harbour_client, summary="=cmd()")
    audit_record(action=Action.VIEW, actor=teammate, obj=harbour_client)
    audit_record(action=Action.LOGIN, actor=teammate)
    response = admin_client_.get(
        reverse("accounts:audit_csv"), {"actor": counselor.pk, "client": harbour_client.pk}
    )
    assert response["Content-Type"] == "text/csv"
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(response)
    assert len(rows) == 1
    row = rows[0]
    assert (row["username"], row["display_name"]) == ("counselor1", "Robin Testcase")
    assert row["record"] == f"Client #{harbour_client.pk}"
    assert row["client"] == "Caller, green coat"
    assert row["details"] == "'=cmd()"  # never a formula in a spreadsheet
    assert AuditEvent.objects.filter(action=Action.EXPORT, summary="Audit log CSV (log)").exists()


def test_user_activity_report(admin_client_, counselor, teammate, harbour_client):
    audit_record(action=Action.VIEW, actor=counselor, obj=harbour_client)
    audit_record(action=Action.LOGIN, actor=teammate)
    page = admin_client_.get(reverse("accounts:audit_user", args=[counselor.pk]))
    assert "Activity of Robin Testcase (counselor1)" in page.content.decode()
    assert "Logged in" not in _table(page)
    rows = _csv(admin_client_.get(reverse("accounts:audit_user_csv", args=[counselor.pk])))
    assert {row["username"] for row in rows} == {"counselor1"}


def test_reports_are_for_clinic_admins_of_the_same_clinic_only(
    client, counselor, outsider, harbour_client
):
    login(client, counselor)
    assert client.get(reverse("accounts:audit_log")).status_code == 403
    login(client, outsider)
    assert client.get(reverse("accounts:audit_client", args=[harbour_client.pk])).status_code == 404
    assert client.get(reverse("accounts:audit_user", args=[counselor.pk])).status_code == 404
    assert (
        client.get(reverse("accounts:audit_client_csv", args=[harbour_client.pk])).status_code
        == 404
    )


@pytest.mark.parametrize("size", [5, 60])
def test_query_count_does_not_grow_with_the_log(
    admin_client_, counselor, teammate, clinic, size, django_assert_max_num_queries
):
    clients = [ClientFactory(clinic=clinic, created_by=counselor) for _ in range(3)]
    for actor in (counselor, teammate):
        audit_record_for_clients(
            action=Action.VIEW,
            actor=actor,
            clinic=clinic,
            client_ids=[clients[i % 3].pk for i in range(size)],
            summary="seen",
        )
    # Budgets include one query per request for the admin's two-factor check (MFA middleware).
    with django_assert_max_num_queries(11):
        admin_client_.get(reverse("accounts:audit_log"))
    with django_assert_max_num_queries(13):
        admin_client_.get(reverse("accounts:audit_client", args=[clients[0].pk]))
    with django_assert_max_num_queries(11):
        response = admin_client_.get(reverse("accounts:audit_csv"))
        assert len(_csv(response)) >= 2 * size


def test_a_row_names_its_client_by_alias_only_if_the_client_is_of_the_clinic(
    admin_client_, counselor, clinic, other_clinic, harbour_client
):
    """The alias comes with the rows' own query (a subquery per row, no query of its own): an
    event naming another clinic's client (none should) shows its number only."""
    stranger = ClientFactory(clinic=other_clinic, alias="Stranger <alias>")
    for named in (harbour_client.pk, stranger.pk, None):
        audit_record(action=Action.VIEW, actor=counselor, clinic=clinic, client=named)
    table = _table(admin_client_.get(reverse("accounts:audit_log")))
    assert f"Caller, green coat (#{harbour_client.pk})" in table
    assert f">Client (#{stranger.pk})</a>" in table
    assert "Stranger" not in table


def test_each_row_names_its_actor_from_the_staff_list_or_else_from_one_more_query(
    admin_client_, counselor, teammate, outsider, clinic, harbour_client
):
    # The rows take their actors from the user filter's list of the clinic's staff (read once
    # for both); an actor outside it still gets a name, in one query for all such actors.
    for actor in (counselor, teammate, outsider):
        audit_record(action=Action.VIEW, actor=actor, clinic=clinic, obj=harbour_client)
    with CaptureQueriesContext(connection) as ctx:
        page = admin_client_.get(reverse("accounts:audit_log"))
    html = page.content.decode()
    for actor in (counselor, teammate, outsider):
        assert f">{actor.display_name}</a> <span" in html
    staff_reads = [q for q in ctx.captured_queries if 'FROM "accounts_user"' in q["sql"]]
    assert len(staff_reads) == 3  # the signed-in user, the clinic's staff, the outsider
    with CaptureQueriesContext(connection) as ctx:
        admin_client_.get(reverse("accounts:audit_log"), {"action": "update"})
    assert len([q for q in ctx.captured_queries if 'FROM "accounts_user"' in q["sql"]]) == 2


def test_the_user_filter_reads_the_clinic_staff_without_a_server_side_cursor(
    admin_client_, counselor
):
    # Tens of people: one plain SELECT, not DECLARE/FETCH/CLOSE (three round trips).
    with CaptureQueriesContext(connection) as ctx:
        page = admin_client_.get(reverse("accounts:audit_log"), {"action": "view"})
    assert page.status_code == 200
    assert f"{counselor.display_name} ({counselor.username})" in page.content.decode()
    assert not [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("DECLARE")]


# The row loop of templates/audit/log.html before the rows were built by audit_event_rows.
_ROWS_AS_A_TEMPLATE = "{% load i18n %}" + (
    Path(__file__).with_name("rows_before_audit_event_rows.html").read_text()
)


def test_audit_rows_are_the_markup_of_the_template_they_replace(counselor, clinic):
    """audit_event_rows builds each row in Python for speed: it must give exactly what the
    template loop gave, escaping included, in another time zone and language too."""
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo

    from django.template import Context, Template
    from django.utils import timezone, translation

    from crisisnotes.audit.templatetags.audit_tags import audit_event_rows

    at = datetime(2026, 3, 29, 0, 30, tzinfo=ZoneInfo("UTC"))
    events = [
        AuditEvent(
            created_at=at,
            actor=counselor,
            actor_id=counselor.pk,
            actor_username=counselor.username,
            clinic=clinic,
            action=Action.VIEW,
            object_type="crisis_sessions.crisissession",
            object_id="12",
            client_id=7,
            summary='<b>seen</b> & "quoted"',
            ip_address="10.0.0.1",
        ),
        AuditEvent(
            created_at=at + timedelta(hours=5, seconds=7),
            actor=None,
            actor_username="gone<user>",
            clinic=clinic,
            action=Action.LOGIN_FAILED,
            object_type="odd type/with space",
            object_id="a b&c",
            client_id=8,
            summary="",
            ip_address=None,
        ),
        AuditEvent(
            created_at=at,
            actor=None,
            actor_username="",
            clinic=clinic,
            action="no_such_action",
            object_type="",
            object_id="",
            client_id=None,
            summary="x",
        ),
    ]
    # What the rows build once a page and reuse: the same actor (once under an older username),
    # the same record type with other ids (one of them digits that are not ASCII).
    events += [
        AuditEvent(
            created_at=at + timedelta(minutes=1),
            actor=counselor,
            actor_id=counselor.pk,
            actor_username=username,
            clinic=clinic,
            action=Action.VIEW,
            object_type="crisis_sessions.crisissession",
            object_id=object_id,
            client_id=7,
            summary="again",
        )
        for username, object_id in (
            (counselor.username, "13"),
            ("old<name>", "\u00b2\u0663"),
            (counselor.username, ""),
        )
    ]
    counselor.full_name = "Robin <Testcase> & co"
    labels = ["Caller, <green> coat", "", "", "Caller, <green> coat", "", "x"]
    pairs = list(zip(events, labels, strict=True))
    template = Template(_ROWS_AS_A_TEMPLATE)
    for zone, language in (("UTC", "en"), ("Europe/Madrid", "es"), ("America/Denver", "en")):
        with timezone.override(ZoneInfo(zone)), translation.override(language):
            expected = template.render(Context({"events": pairs}))
            assert expected.count("<tr>") == 6 and "&lt;Testcase&gt;" in expected
            assert "  " + audit_event_rows(pairs) + "\n" == expected


@pytest.mark.parametrize(
    "data",
    [
        None,
        {"action": "view", "date_from": "2026-11-02", "record_type": "crisis_sessions.client"},
        {"date_from": "not a date", "record_id": "7", "client": "<b>x</b>"},
    ],
)
def test_the_filter_fields_are_djangos_widget_markup(clinic_admin, counselor, data):
    # The page writes the widgets with |light_widget (no template include per <option>): the
    # same tags, attributes and text as {{ field.as_widget }}, empty, filled and invalid
    # (whitespace between tags aside, as tests/sessions/test_light_fields.py compares).
    from crisisnotes.audit.forms import AuditFilterForm
    from crisisnotes.audit.selectors import audit_actor_choices
    from sessions.templatetags.light_fields import light_widget
    from tests.sessions.test_light_fields import tokens

    form = AuditFilterForm(
        data,
        actors=audit_actor_choices(user=clinic_admin),
        find_clients=lambda text: [],
    )
    form.is_valid()
    for field in form:
        assert tokens(light_widget(field)) == tokens(field.as_widget()), field.name
