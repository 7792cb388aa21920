"""Two-factor sign-in (allauth.mfa): who must use it, the sign-in step, recovery codes, a clinic
admin's reset, re-authentication before bulk export and role changes, and e-mail on changes."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import Action, AuditEvent
from crisisnotes.notifications.models import OutgoingEmail
from tests.conftest import login
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

ACTIVATE = "/accounts/2fa/totp/activate/"


def _security_mail(user: User) -> list[str]:
    return list(
        OutgoingEmail.objects.filter(recipient=user, kind="security").values_list(
            "subject", flat=True
        )
    )


def test_a_clinic_admin_without_two_factors_is_sent_to_set_it_up(client, clinic_admin):
    client.force_login(clinic_admin)
    response = client.get(reverse("accounts:admin_home"))
    assert response.status_code == 302 and response.url == ACTIVATE


def test_counselors_need_it_only_when_their_clinic_says_so(client, counselor):
    client.force_login(counselor)
    assert client.get(reverse("crisis_sessions:my_work")).status_code == 200
    counselor.clinic.require_mfa = True
    counselor.clinic.save()
    assert client.get(reverse("crisis_sessions:my_work")).url == ACTIVATE


def test_the_django_admin_requires_two_factors_and_uses_the_apps_login(client, clinic):
    operator = User.objects.create_superuser("operator1", "op@example.invalid", PASSWORD)
    assert client.get("/operators/login/").url == "/login/?next=/operators/"
    client.force_login(operator)
    assert client.get("/operators/").url == ACTIVATE


def test_password_then_recovery_code_signs_in_audited_and_emailed(client, counselor):
    counselor.clinic.require_mfa = True
    counselor.clinic.save()
    Authenticator.objects.create(
        user=counselor, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    code = RecoveryCodes.activate(counselor).get_unused_codes()[0]
    response = client.post(reverse("login"), {"login": counselor.username, "password": PASSWORD})
    assert response.url == reverse("mfa_authenticate")
    assert "_auth_user_id" not in client.session  # the password alone does not sign in
    response = client.post(reverse("mfa_authenticate"), {"code": code})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(counselor.pk)
    event = AuditEvent.objects.get(action=Action.MFA_RECOVERY)
    assert event.actor == counselor
    assert "crisisnotes: A recovery code was used to sign in" in _security_mail(counselor)


def test_a_clinic_admin_resets_a_lost_authenticator(client, clinic_admin, counselor):
    Authenticator.objects.create(
        user=counselor, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    login(client, clinic_admin)
    page = client.get(reverse("accounts:user_edit", args=[counselor.pk])).content.decode()
    assert "Reset two-factor sign-in" in page
    response = client.post(reverse("accounts:user_mfa_reset", args=[counselor.pk]))
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=counselor).exists()
    event = AuditEvent.objects.get(action=Action.MFA_RESET)
    assert event.actor == clinic_admin and event.object_id == str(counselor.pk)
    assert any("reset by" in s for s in _security_mail(counselor))


def test_bulk_export_and_role_changes_ask_for_the_password_again(client, clinic_admin, counselor):
    login(client, clinic_admin)
    session = client.session
    session["account_authentication_methods"] = [{"method": "password", "at": 0}]
    session.save()
    for url in (
        reverse("crisis_sessions:export_list"),
        reverse("accounts:user_edit", args=[counselor.pk]),
    ):
        assert client.get(url).status_code == 200  # reading the page needs nothing more
        response = client.post(url, {"risk_level": ""})
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_reauthenticate"))


def test_changing_the_password_is_audited_and_emailed(client, counselor):
    login(client, counselor)
    new = "a-much-longer-passphrase-2026"
    response = client.post(
        reverse("password_change"),
        {"old_password": PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    assert AuditEvent.objects.filter(action=Action.PASSWORD_CHANGE, actor=counselor).exists()
    assert "crisisnotes: Your password was changed" in _security_mail(counselor)


def test_passwords_are_at_least_12_characters():
    with pytest.raises(ValidationError):
        validate_password("Tr0ub4dor&3")  # 11
    validate_password("Tr0ub4dor&3x")
