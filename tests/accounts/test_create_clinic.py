"""manage.py create_clinic: on an empty database it leads to a working login."""

from __future__ import annotations

import io
import re
from typing import Any

import pytest
from allauth.mfa.models import Authenticator
from django.core import mail
from django.core.management import CommandError, call_command
from django.test import Client as DjangoClient
from django.urls import reverse

from crisisnotes.accounts.models import Clinic, User
from crisisnotes.audit.models import AuditEvent

pytestmark = pytest.mark.django_db


def _create(**extra: Any) -> str:
    out = io.StringIO()
    args = [
        "--name=Bayside Crisis Line",
        "--time-zone=America/Los_Angeles",
        "--admin-username=bayadmin",
        "--admin-name=Quinn Examplar",
        *[f"--{k.replace('_', '-')}={v}" for k, v in extra.items() if v is not True],
        *[f"--{k.replace('_', '-')}" for k, v in extra.items() if v is True],
    ]
    call_command("create_clinic", *args, stdout=out)
    return out.getvalue()


def test_create_clinic_on_an_empty_database_leads_to_a_working_login(client: DjangoClient) -> None:
    assert not Clinic.objects.exists() and not User.objects.exists()
    output = _create()
    password = re.search(r"One-time password for bayadmin: (\S+)", output)
    assert password, output
    clinic = Clinic.objects.get()
    admin = User.objects.get()
    assert (clinic.slug, clinic.time_zone) == ("bayside-crisis-line", "America/Los_Angeles")
    assert admin.is_clinic_admin and admin.team is not None and admin.team.clinic == clinic
    response = client.post(
        reverse("login"), {"login": "bayadmin", "password": password.group(1)}, follow=True
    )
    # A clinic admin signs in with two factors: the first sign-in leads to setting them up.
    assert response.redirect_chain[-1][0] == "/accounts/2fa/totp/activate/"
    assert response.status_code == 200
    # Once set up, the clinic is theirs to run.
    Authenticator.objects.create(
        user=admin, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
    )
    body = client.get(reverse("accounts:admin_home")).content.decode()
    assert "Bayside Crisis Line" in body and "America/Los_Angeles" in body
    assert client.get(reverse("accounts:clinic_settings")).status_code == 200
    assert AuditEvent.objects.filter(object_type="accounts.clinic", clinic=clinic).exists()


def test_create_clinic_can_send_a_reset_link_instead(
    settings: Any, eager_tasks: None, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        output = _create(admin_email="quinn@example.org", send_reset_link=True)
    assert "One-time password" not in output
    assert "queued for quinn@example.org" in output
    # The outbox row is the e-mail; its send task (run here in-process) mails the link.
    assert len(mail.outbox) == 1 and "/reset/" in mail.outbox[0].body
    # A random password nobody was shown: the reset link is the only way in.
    assert User.objects.get().has_usable_password()


def test_create_clinic_refuses_bad_input_and_saves_nothing() -> None:
    with pytest.raises(CommandError, match="not a time zone"):
        _create(time_zone="Mars/Olympus")
    assert not Clinic.objects.exists() and not User.objects.exists()
    _create()
    with pytest.raises(CommandError, match="already exists"):
        _create(admin_username="other")
    with pytest.raises(CommandError, match="needs --admin-email"):
        _create(name="Elsewhere", send_reset_link=True)
    assert Clinic.objects.count() == 1
