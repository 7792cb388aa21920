"""Accounting of disclosures (HIPAA §164.528): recorded after signing and outside a session by
the author, a supervisor or a clinic admin; a bulk export as a disclosure per client; the
printable accounting for a period."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import Action, AuditEvent
from safety.exceptions import SafetyError
from safety.models import Disclosure, DisclosureType
from safety.services import disclosure_record, disclosure_record_for_export
from sessions.models import ExportJob
from sessions.models.exports import ExportStatus
from sessions.services.exports import export_bulk_request
from sessions.services.signing import note_content_hash
from tests.conftest import login
from tests.factories import ClientFactory, NoteFactory

pytestmark = pytest.mark.django_db


def _data(**overrides: Any) -> dict[str, Any]:
    return {
        "type": DisclosureType.COURT_ORDER,
        "legal_basis": "Subpoena duces tecum no. 26-0417 (invented)",
        "recipient": "Harbour County Court clerk",
        "disclosed_at": timezone.now(),
        "information_disclosed": "Session record of the night call.",
        "purpose": "Production under subpoena",
        "individual_informed": True,
        **overrides,
    }


def test_supervisor_records_a_disclosure_after_signing_without_touching_the_signed_note(
    counselor: User, supervisor: User
) -> None:
    note = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    before = note_content_hash(note)
    disclosure = disclosure_record(actor=supervisor, client=note.client, session=note, data=_data())
    assert disclosure.regarding_session == note and disclosure.session is None
    assert disclosure.created_by == supervisor
    # The signed record (and so its hash) is exactly what it was when signed.
    assert note_content_hash(note) == before
    event = AuditEvent.objects.get(object_type="safety.disclosure", object_id=str(disclosure.pk))
    assert (event.action, event.actor, event.client_id) == (
        Action.CREATE,
        supervisor,
        note.client_id,
    )


def test_admin_records_a_disclosure_outside_any_session(
    clinic_admin: User, counselor: User
) -> None:
    client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    disclosure = disclosure_record(
        actor=clinic_admin,
        client=client,
        data=_data(type=DisclosureType.AUTHORIZED_RELEASE, legal_basis="Signed authorization"),
    )
    assert disclosure.session_concerned_id is None
    assert list(client.disclosures.all()) == [disclosure]


def test_a_later_disclosure_can_never_be_changed(clinic_admin: User, counselor: User) -> None:
    client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    disclosure = disclosure_record(actor=clinic_admin, client=client, data=_data())
    with pytest.raises(IntegrityError), transaction.atomic():
        Disclosure.objects.filter(pk=disclosure.pk).update(recipient="someone else")
    with pytest.raises(IntegrityError), transaction.atomic():
        Disclosure.objects.filter(pk=disclosure.pk).delete()


def test_only_the_author_a_supervisor_or_an_admin_may_record(
    counselor: User, teammate: User, outsider: User
) -> None:
    note = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    assert disclosure_record(actor=counselor, client=note.client, session=note, data=_data())
    with pytest.raises(SafetyError, match="author, a supervisor or a clinic admin"):
        disclosure_record(actor=teammate, client=note.client, session=note, data=_data())
    with pytest.raises(SafetyError, match="author, a supervisor or a clinic admin"):
        disclosure_record(actor=counselor, client=note.client, data=_data())
    with pytest.raises(SafetyError, match="not in your clinic"):
        disclosure_record(actor=outsider, client=note.client, data=_data())
    other_client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    with pytest.raises(SafetyError, match="not one of this client's"):
        disclosure_record(actor=counselor, client=other_client, session=note, data=_data())
    assert Disclosure.objects.count() == 1


@pytest.fixture
def private_dir(settings: Any, tmp_path: Path) -> Path:
    settings.PRIVATE_STORAGE_DIR = tmp_path
    return tmp_path


def test_a_bulk_export_sent_outside_is_a_disclosure_for_every_client_it_holds(
    counselor: User, clinic_admin: User, private_dir: Path
) -> None:
    first, second = (ClientFactory(clinic=counselor.clinic, created_by=counselor) for _ in "ab")
    notes = [
        NoteFactory.create(signed=True, high_risk=True, author=counselor, client=first),
        NoteFactory.create(signed=True, high_risk=True, author=counselor, client=first),
        NoteFactory.create(signed=True, high_risk=True, author=counselor, client=second),
    ]
    job = export_bulk_request(actor=clinic_admin)
    with pytest.raises(SafetyError, match="finished export"):
        disclosure_record_for_export(actor=clinic_admin, job=job, data=_data())
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.DONE)
    created = disclosure_record_for_export(
        actor=clinic_admin, job=job, data=_data(information_disclosed="")
    )
    assert {d.client_id for d in created} == {first.pk, second.pk}
    first_row = next(d for d in created if d.client_id == first.pk)
    assert f"#{notes[0].pk}, #{notes[1].pk}" in first_row.information_disclosed
    assert f"export {job.pk}" in first_row.information_disclosed
    events = AuditEvent.objects.filter(object_type="safety.disclosure", action=Action.CREATE)
    assert set(events.values_list("client_id", flat=True)) == {first.pk, second.pk}
    with pytest.raises(SafetyError, match="already recorded"):
        disclosure_record_for_export(actor=clinic_admin, job=job, data=_data())
    with pytest.raises(SafetyError, match="clinic admin"):
        disclosure_record_for_export(actor=counselor, job=job, data=_data())


def _pdf_text(content: bytes) -> str:
    """The PDF's text with table-cell line breaks folded into spaces."""
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return " ".join(text.split())


def _form(**overrides: Any) -> dict[str, Any]:
    return {
        "type": "court_order",
        "legal_basis": "Court order 26-CV-88 (invented)",
        "recipient": "Harbour County Court",
        "disclosed_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "information_disclosed": "Two session records",
        "purpose": "Court order",
        "individual_informed": "on",
        **overrides,
    }


def test_record_page_after_signing_and_the_printed_accounting(
    client: DjangoClient, counselor: User, supervisor: User, clinic_admin: User
) -> None:
    note = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    login(client, supervisor)
    url = reverse("safety:disclosure_record", args=[note.client_id])
    assert client.get(url).status_code == 200
    response = client.post(url, _form(session=note.pk))
    assert response.status_code == 302
    # Bad input: a clear message, nothing saved.
    bad = client.post(url, _form(recipient=""))
    assert bad.status_code == 200 and "This field is required" in bad.content.decode()
    assert Disclosure.objects.count() == 1

    login(client, clinic_admin)
    accounting = reverse("safety:disclosure_accounting", args=[note.client_id])
    page = client.get(accounting).content.decode()
    assert "Harbour County Court" in page and "Subpoena or court order" in page
    today = timezone.localdate()
    pdf = client.get(
        reverse("safety:disclosure_accounting_pdf", args=[note.client_id]),
        {"date_from": (today - timedelta(days=30)).isoformat(), "date_to": today.isoformat()},
    )
    assert pdf["Content-Type"] == "application/pdf"
    text = _pdf_text(pdf.content)
    assert "Accounting of disclosures" in text and "Harbour County Court" in text
    assert "Alex Testadmin" in text
    empty = client.get(
        reverse("safety:disclosure_accounting_pdf", args=[note.client_id]),
        {"date_to": (today - timedelta(days=2)).isoformat()},
    )
    empty_text = _pdf_text(empty.content)
    assert "Harbour County Court" not in empty_text and "No disclosures" in empty_text
    assert AuditEvent.objects.filter(
        action=Action.EXPORT, summary="Accounting of disclosures (PDF)", client_id=note.client_id
    ).exists()


def test_a_counselor_records_only_against_their_own_sessions(
    client: DjangoClient, counselor: User, teammate: User
) -> None:
    note = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    login(client, teammate)
    url = reverse("safety:disclosure_record", args=[note.client_id])
    response = client.post(url, _form(session=note.pk))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    no_session = client.post(url, _form())
    assert "This field is required" in no_session.content.decode()
    assert not Disclosure.objects.exists()


def test_export_page_records_the_disclosure(
    client: DjangoClient, counselor: User, clinic_admin: User, private_dir: Path
) -> None:
    NoteFactory.create(signed=True, high_risk=True, author=counselor)
    job = export_bulk_request(actor=clinic_admin)
    ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.DONE)
    login(client, clinic_admin)
    detail = client.get(reverse("crisis_sessions:export_detail", args=[job.pk])).content.decode()
    url = reverse("safety:disclosure_export", args=[job.pk])
    assert url in detail
    response = client.post(url, _form())
    assert response.status_code == 302
    assert Disclosure.objects.filter(export_job=job).count() == 1
