from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.http import Http404

from crisisnotes.audit.models import Action, AuditEvent
from sessions.selectors.clients import client_get, client_search
from sessions.services.clients import client_create, client_update

pytestmark = pytest.mark.django_db


def test_an_alias_is_enough_for_a_client(counselor):
    client = client_create(user=counselor, alias="Caller, blue jacket")
    assert client.clinic == counselor.clinic and client.name == ""
    assert AuditEvent.objects.filter(action=Action.CREATE, object_id=str(client.pk)).exists()


def test_a_client_needs_an_alias(counselor):
    with pytest.raises(ValidationError):
        client_create(user=counselor, alias="  ")


def test_search_matches_alias_name_and_phone_digits(counselor):
    jacket = client_create(user=counselor, alias="Caller, blue jacket")
    jordan = client_create(user=counselor, alias="Night caller", name="Jordan Fictional")
    phone = client_create(user=counselor, alias="Texter", phone="(555) 010-4477")
    assert list(client_search(user=counselor, q="BLUE")) == [jacket]
    assert list(client_search(user=counselor, q="jordan")) == [jordan]
    assert list(client_search(user=counselor, q="555-010-44")) == [phone]
    assert list(client_search(user=counselor, q="5550104477")) == [phone]


def test_search_and_get_are_scoped_to_the_clinic(counselor, outsider):
    foreign = client_create(user=outsider, alias="Caller, blue jacket")
    assert list(client_search(user=counselor, q="blue")) == []
    with pytest.raises(Http404):
        client_get(user=counselor, client_id=foreign.pk)


def test_client_update_audits_the_changed_fields(counselor):
    client = client_create(user=counselor, alias="Caller")
    client_update(user=counselor, client=client, pronouns="they/them", alias="Caller")
    event = AuditEvent.objects.get(action=Action.UPDATE, object_id=str(client.pk))
    assert event.summary == "client changed: pronouns"
