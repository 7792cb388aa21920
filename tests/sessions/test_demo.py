import pytest
from django.core.management import call_command

from crisisnotes.accounts.models import Clinic, User
from sessions.models import Client

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_the_three_roles_and_runs_twice_without_change(monkeypatch, capsys):
    monkeypatch.setenv("DEMO_PASSWORD", "demo-test-password-1")
    call_command("seed_demo")
    first = capsys.readouterr().out
    assert "Demo users created: counselor, trainee, supervisor, admin" in first
    counts = (Clinic.objects.count(), User.objects.count(), Client.objects.count())
    hashes = dict(User.objects.values_list("username", "password"))

    call_command("seed_demo")
    assert "already present, unchanged" in capsys.readouterr().out
    assert (Clinic.objects.count(), User.objects.count(), Client.objects.count()) == counts
    assert dict(User.objects.values_list("username", "password")) == hashes

    users = {u.username: u for u in User.objects.all()}
    assert users["counselor"].is_counselor and users["trainee"].is_trainee
    assert users["supervisor"].is_supervisor and users["admin"].is_clinic_admin
    assert users["counselor"].check_password("demo-test-password-1")
    assert users["counselor"].team.supervisor == users["supervisor"]


def test_seed_demo_without_a_password_prints_a_generated_one_once(monkeypatch, capsys):
    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    call_command("seed_demo")
    out = capsys.readouterr().out
    password = out.split("Password for each of them: ", 1)[1].split()[0]
    assert User.objects.get(username="admin").check_password(password)
