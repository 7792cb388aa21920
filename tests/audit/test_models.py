import pytest
from django.db import IntegrityError, connection, transaction
from django.http import Http404

from crisisnotes.audit.models import Action, AuditEvent
from crisisnotes.audit.selectors import audit_event_get
from crisisnotes.audit.services import audit_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def event(counselor):
    return audit_record(action=Action.VIEW, actor=counselor, object_type="test", object_id=1)


def test_audit_rows_cannot_be_updated_through_the_orm(event):
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(summary="rewritten")
    event.refresh_from_db()
    assert event.summary == ""


def test_audit_rows_cannot_be_deleted_through_the_orm(event):
    with pytest.raises(IntegrityError), transaction.atomic():
        event.delete()
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_audit_rows_cannot_be_changed_with_raw_sql(event):
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE audit_auditevent SET action = 'login' WHERE id = %s", [event.pk])
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent")
    assert AuditEvent.objects.filter(pk=event.pk, action=Action.VIEW).exists()


def test_audit_record_takes_actor_clinic_address_and_agent_from_the_request(rf, counselor):
    request = rf.get("/", HTTP_USER_AGENT="TestAgent/1.0", REMOTE_ADDR="10.1.2.3")
    request.user = counselor
    event = audit_record(action=Action.VIEW, request=request, obj=counselor)
    assert (event.actor, event.clinic, event.ip_address, event.user_agent) == (
        counselor,
        counselor.clinic,
        "10.1.2.3",
        "TestAgent/1.0",
    )
    assert event.object_type == "accounts.user" and event.object_id == str(counselor.pk)


def test_another_clinics_audit_event_is_404(event, outsider, clinic_admin):
    assert audit_event_get(user=clinic_admin, event_id=event.pk) == event
    with pytest.raises(Http404):
        audit_event_get(user=outsider, event_id=event.pk)


def test_audit_log_page_shows_only_the_own_clinic(client, event, outsider, clinic_admin):
    from django.urls import reverse

    from tests.conftest import login

    login(client, outsider)
    page = client.get(reverse("accounts:audit_log")).content.decode()
    assert "counselor1" not in page and "Robin Testcase" not in page
    login(client, clinic_admin)
    assert "Robin Testcase" in client.get(reverse("accounts:audit_log")).content.decode()


def test_the_log_names_records_in_words(counselor):
    event = audit_record(action=Action.VIEW, actor=counselor, obj=counselor)
    assert event.object_label == "User"
    unknown = audit_record(action=Action.VIEW, actor=counselor, object_type="legacy thing")
    assert unknown.object_label == "legacy thing"
