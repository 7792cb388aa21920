"""The optional read-only FHIR endpoint: off by default; on, a partner token (stored hashed,
created by the management command) reads the signed records of its own clinic only, every read
and every refused token is audited, and errors are OperationOutcomes."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from crisisnotes.audit.models import Action, AuditEvent
from sessions.models import FhirApiToken
from sessions.services.fhir import fhir_token_create, fhir_token_digest, fhir_token_revoke
from tests.factories import NoteFactory
from tests.safety.fhir_records import high_risk_note, validate_bundle

pytestmark = pytest.mark.django_db


@pytest.fixture
def api_on(settings):
    settings.FHIR_API_ENABLED = True


def bundle_url(note):
    return reverse("crisis_sessions:fhir_api_bundle", args=[note.pk])


def bearer(raw):
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


def test_the_endpoint_is_off_by_default(client, counselor, clinic):
    note = high_risk_note(counselor)
    _, raw = fhir_token_create(clinic=clinic, name="Partner 988 centre")
    assert client.get(bundle_url(note), **bearer(raw)).status_code == 404
    assert client.get(reverse("crisis_sessions:fhir_api_metadata")).status_code == 404
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_a_partner_token_reads_its_clinics_signed_record_and_is_audited(
    api_on, client, counselor, clinic
):
    note = high_risk_note(counselor)
    token, raw = fhir_token_create(clinic=clinic, name="Partner 988 centre")
    response = client.get(bundle_url(note), **bearer(raw))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/fhir+json"
    bundle = json.loads(response.content)
    validate_bundle(bundle)
    assert bundle["id"] == f"session-{note.pk}"
    event = AuditEvent.objects.get(action=Action.EXPORT, object_id=str(note.pk))
    assert event.actor is None and event.clinic_id == clinic.pk
    assert event.actor_username == f"fhir-token:{token.prefix}"
    assert "Partner 988 centre" in event.summary
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_another_clinics_record_and_drafts_are_404(api_on, client, counselor, outsider):
    note = high_risk_note(counselor)
    draft = NoteFactory.create(author=counselor)
    _, theirs = fhir_token_create(clinic=outsider.clinic, name="Uplands partner")
    response = client.get(bundle_url(note), **bearer(theirs))
    assert response.status_code == 404
    assert json.loads(response.content)["resourceType"] == "OperationOutcome"
    _, ours = fhir_token_create(clinic=counselor.clinic, name="Harbour partner")
    assert client.get(bundle_url(draft), **bearer(ours)).status_code == 404
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


@pytest.mark.parametrize("header", ["", "Bearer ", "Bearer cnfhir_not-a-token", "Basic abc"])
def test_missing_unknown_or_wrong_kind_of_token_is_401_and_audited(
    api_on, client, counselor, header
):
    note = high_risk_note(counselor)
    extra = {"HTTP_AUTHORIZATION": header} if header else {}
    response = client.get(bundle_url(note), **extra)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert json.loads(response.content)["issue"][0]["code"] == "login"
    assert AuditEvent.objects.filter(action=Action.LOGIN_FAILED).count() == 1
    assert not AuditEvent.objects.filter(action=Action.EXPORT).exists()


def test_a_revoked_token_reads_nothing(api_on, client, counselor, clinic):
    note = high_risk_note(counselor)
    token, raw = fhir_token_create(clinic=clinic, name="Partner")
    fhir_token_revoke(token=token)
    assert client.get(bundle_url(note), **bearer(raw)).status_code == 401


def test_only_the_tokens_hash_is_stored(clinic):
    token, raw = fhir_token_create(clinic=clinic, name="Partner")
    stored = FhirApiToken.objects.get(pk=token.pk)
    assert stored.token_hash == fhir_token_digest(raw) and raw not in stored.token_hash
    assert raw.startswith(stored.prefix) and len(stored.prefix) < len(raw) // 3
    assert AuditEvent.objects.filter(
        action=Action.CREATE, object_type="crisis_sessions.fhirapitoken"
    ).exists()


def test_metadata_names_the_fhir_version(api_on, client):
    body = json.loads(client.get(reverse("crisis_sessions:fhir_api_metadata")).content)
    assert body["resourceType"] == "CapabilityStatement" and body["fhirVersion"] == "4.0.1"
    from fhir.resources import construct_fhir_element

    construct_fhir_element("CapabilityStatement", body)


def test_management_command_creates_lists_and_revokes(api_on, client, counselor, clinic):
    note = high_risk_note(counselor)
    out = StringIO()
    call_command("fhir_token", "create", "--clinic", clinic.slug, "--name", "Partner", stdout=out)
    raw = out.getvalue().strip().splitlines()[-1]
    assert client.get(bundle_url(note), **bearer(raw)).status_code == 200
    token = FhirApiToken.objects.get()
    listing = StringIO()
    call_command("fhir_token", "list", "--clinic", clinic.slug, stdout=listing)
    assert token.prefix in listing.getvalue() and raw not in listing.getvalue()
    call_command("fhir_token", "revoke", token.prefix, stdout=StringIO())
    assert client.get(bundle_url(note), **bearer(raw)).status_code == 401
    with pytest.raises(CommandError, match="No clinic"):
        call_command("fhir_token", "create", "--clinic", "nope", "--name", "X")
