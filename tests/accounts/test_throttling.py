import pytest
from django.test import Client
from django.urls import reverse

from crisisnotes.audit.models import Action, AuditEvent
from tests.conftest import login
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_repeated_wrong_passwords_lock_the_login_even_with_the_right_one(
    client, counselor, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"login": "counselor1", "password": "wrong-guess"})
    response = client.post(reverse("login"), {"login": "counselor1", "password": PASSWORD})
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_another_user_elsewhere_is_not_locked_by_someone_elses_failures(
    client, counselor, teammate, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("login"),
            {"login": "counselor1", "password": "wrong-guess"},
            REMOTE_ADDR="203.0.113.66",
        )
    response = client.post(
        reverse("login"), {"login": "teammate1", "password": PASSWORD}, REMOTE_ADDR="192.0.2.10"
    )
    assert response.status_code == 302


def _fail(client, username, forwarded):
    client.post(
        reverse("login"),
        {"login": username, "password": "wrong-guess"},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR=forwarded,
    )


def test_lockout_keys_on_the_trusted_address_not_a_forged_header(client, counselor, settings):
    """Behind one proxy: an attacker rotating a forged first X-Forwarded-For entry is still
    locked by the address the proxy saw, and the audit row stores that address."""
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(settings.AXES_FAILURE_LIMIT):
        _fail(client, "counselor1", f"198.51.100.{n}, 203.0.113.66")
    response = client.post(
        reverse("login"),
        {"login": "counselor1", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="198.51.100.99, 203.0.113.66",
    )
    assert response.status_code == 429
    addresses = set(
        AuditEvent.objects.filter(action=Action.LOGIN_FAILED).values_list("ip_address", flat=True)
    )
    assert addresses == {"203.0.113.66"}


def test_an_outsider_cannot_lock_a_counselor_out_from_elsewhere(client, counselor, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        _fail(client, "counselor1", "203.0.113.66")  # the attacker's address
    # The counselor, from the clinic's address, still logs in: no username-only lock.
    response = client.post(
        reverse("login"),
        {"login": "counselor1", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="192.0.2.10",
    )
    assert response.status_code == 302


def test_one_address_trying_many_usernames_is_locked(client, counselor, teammate, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    for n in range(settings.AXES_FAILURE_LIMIT):
        _fail(client, f"guess{n}", "203.0.113.66")
    response = client.post(
        reverse("login"),
        {"login": "teammate1", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="203.0.113.66",
    )
    assert response.status_code == 429


def test_a_clinic_admin_unlocks_a_locked_out_user_and_it_is_audited(
    client, counselor, clinic_admin, settings
):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"login": "counselor1", "password": "wrong-guess"})
    admin = Client()
    login(admin, clinic_admin)
    edit = admin.get(reverse("accounts:user_edit", args=[counselor.pk])).content.decode()
    assert 'data-testid="locked-out"' in edit
    response = admin.post(reverse("accounts:user_unlock", args=[counselor.pk]))
    assert response.status_code == 302
    event = AuditEvent.objects.get(action=Action.UNLOCK)
    assert event.actor == clinic_admin and event.object_id == str(counselor.pk)
    response = client.post(reverse("login"), {"login": "counselor1", "password": PASSWORD})
    assert response.status_code == 302


def test_an_admin_of_another_clinic_cannot_unlock(client, counselor, outsider):
    login(client, outsider)
    response = client.post(reverse("accounts:user_unlock", args=[counselor.pk]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(action=Action.UNLOCK).exists()
