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
