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


def test_seeded_past_session_is_signed_through_every_sign_rule_and_seeding_twice_changes_nothing():
    from sessions.models import CrisisSession
    from sessions.models.notes import NoteStatus, RiskLevel
    from sessions.services.demo import demo_seed
    from sessions.services.signing import note_content_hash, note_sign_problems
    from tests.sessions.note_helpers import reload

    demo_seed(password="demo-test-password-1")
    note = reload(CrisisSession.objects.get())
    assert note.status == NoteStatus.SIGNED
    assert note_sign_problems(note) == []
    assert note.screen_risk == RiskLevel.NONE
    assert note.safety_screen.answers["q1"] is False  # answered "no", not left empty
    assert note.means_safety.agitation == 2
    assert note.content_hash == note_content_hash(note)
    # Dated three days ago and entered now: honestly a late entry.
    assert note.late_entry is True
    assert [r["name"] for r in note.rapport.resources_given] == [
        "988 Suicide & Crisis Lifeline",
        "Northside Food Bank (demo)",
    ]
    before = list(CrisisSession.objects.values_list("pk", "version", "content_hash"))

    demo_seed(password="demo-test-password-1")
    assert list(CrisisSession.objects.values_list("pk", "version", "content_hash")) == before
