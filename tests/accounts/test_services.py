import pytest
from django.db import transaction

from crisisnotes.accounts.models import User
from crisisnotes.accounts.services import AccountError, user_create, user_set_active, user_update
from crisisnotes.audit.models import AuditEvent
from tests.factories import TeamFactory

pytestmark = pytest.mark.django_db


def test_user_create_writes_its_audit_row_in_the_same_transaction(clinic, clinic_admin):
    with pytest.raises(RuntimeError), transaction.atomic():
        user_create(
            actor=clinic_admin,
            clinic=clinic,
            username="gone",
            full_name="Gone Again",
            is_counselor=True,
        )
        raise RuntimeError("roll back")
    assert not User.objects.filter(username="gone").exists()
    assert not AuditEvent.objects.filter(summary__contains="gone").exists()


def test_user_update_refuses_fields_outside_the_profile(clinic_admin, counselor):
    with pytest.raises(AccountError):
        user_update(actor=clinic_admin, user=counselor, clinic=None)


def test_user_update_refuses_a_team_of_another_clinic(clinic_admin, counselor, other_clinic):
    with pytest.raises(AccountError):
        user_update(actor=clinic_admin, user=counselor, team=TeamFactory(clinic=other_clinic))


def test_admin_cannot_deactivate_themselves(clinic_admin):
    with pytest.raises(AccountError):
        user_set_active(actor=clinic_admin, user=clinic_admin, active=False)


def test_a_user_without_clinic_is_refused_unless_operator(db):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="floating", full_name="Floating")
    User.objects.create_superuser(
        username="operator", email="op@example.invalid", password="x-long-password", full_name="Op"
    )
