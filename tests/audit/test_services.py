"""audit_record names the client an event concerns; audit_record_for_clients writes one row per
client in one statement."""

import pytest

from crisisnotes.audit.models import Action, AuditEvent
from crisisnotes.audit.services import audit_record, audit_record_for_clients
from tests.factories import ClientFactory, CrisisSessionFactory, FollowUpTaskFactory

pytestmark = pytest.mark.django_db


def test_an_event_about_a_client_names_the_client(counselor, clinic):
    client = ClientFactory(clinic=clinic, created_by=counselor)
    assert audit_record(action=Action.VIEW, actor=counselor, obj=client).client_id == client.pk


def test_an_event_about_a_clients_record_names_the_client(counselor, clinic):
    note = CrisisSessionFactory(clinic=clinic, author=counselor, client__created_by=counselor)
    task = FollowUpTaskFactory(session=note, clinic=clinic, client=note.client)
    assert audit_record(action=Action.VIEW, actor=counselor, obj=note).client_id == note.client_id
    assert audit_record(action=Action.VIEW, actor=counselor, obj=task).client_id == note.client_id


def test_an_explicit_client_wins_and_other_events_name_none(counselor, clinic):
    client = ClientFactory(clinic=clinic, created_by=counselor)
    by_id = audit_record(
        action=Action.EXPORT, actor=counselor, object_type="x.y", object_id=3, client=client.pk
    )
    assert by_id.client_id == client.pk
    assert audit_record(action=Action.LOGIN, actor=counselor).client_id is None
    assert audit_record(action=Action.VIEW, actor=counselor, obj=counselor).client_id is None


def test_events_for_many_clients_are_one_insert(counselor, clinic, django_assert_num_queries, rf):
    clients = [ClientFactory(clinic=clinic, created_by=counselor) for _ in range(5)]
    request = rf.get("/", REMOTE_ADDR="10.9.8.7")
    with django_assert_num_queries(1):
        written = audit_record_for_clients(
            action=Action.VIEW,
            actor=counselor,
            clinic=clinic,
            request=request,
            client_ids=[c.pk for c in clients],
            summary="Listed in client search results",
        )
    assert written == 5
    rows = AuditEvent.objects.filter(summary="Listed in client search results")
    assert set(rows.values_list("client_id", flat=True)) == {c.pk for c in clients}
    assert set(rows.values_list("ip_address", "actor_username")) == {("10.9.8.7", "counselor1")}


def test_object_ids_must_pair_with_clients(counselor, clinic):
    with pytest.raises(ValueError):
        audit_record_for_clients(
            action=Action.VIEW,
            actor=counselor,
            clinic=clinic,
            client_ids=[1, 2],
            object_ids=[1],
            summary="",
        )


def test_the_one_statement_writes_what_the_portable_path_writes(counselor, clinic, rf, monkeypatch):
    """On PostgreSQL the rows go in as one INSERT … SELECT over arrays; elsewhere bulk_create
    writes them. Same rows, column for column (the time aside), in the same order."""
    from django.db import connection

    clients = [ClientFactory(clinic=clinic, created_by=counselor) for _ in range(3)]
    request = rf.get("/", REMOTE_ADDR="10.9.8.7", HTTP_USER_AGENT="Agent <x> " + "a" * 400)
    columns = [
        "actor_id",
        "actor_username",
        "clinic_id",
        "client_id",
        "action",
        "object_type",
        "object_id",
        "summary",
        "ip_address",
        "user_agent",
    ]

    def write(summary, with_request):
        audit_record_for_clients(
            action=Action.EXPORT,
            actor=counselor,
            clinic=clinic,
            request=request if with_request else None,
            client_ids=[c.pk for c in clients],
            object_ids=[f"note-{i}" * 20 for i in range(3)],
            object_type="crisis_sessions.crisissession",
            summary=summary,
        )
        rows = AuditEvent.objects.filter(summary__startswith=summary[:20]).order_by(
            "-created_at", "-id"
        )
        return [tuple(row[c] for c in columns if c != "summary") for row in rows.values(*columns)]

    for with_request in (True, False):
        if connection.vendor == "postgresql":
            one_statement = write(f"S{with_request} one " + "s" * 300, with_request)
        monkeypatch.setattr(connection, "vendor", "portable")
        portable = write(f"S{with_request} orm " + "s" * 300, with_request)
        monkeypatch.undo()
        if connection.vendor == "postgresql":
            assert one_statement == portable
        assert len(portable) == 3 and portable[0][3] == clients[-1].pk
