"""The immutability triggers hold on the embedded SQLite default too, including after later
migrations rebuilt the tables (SQLite drops a table's triggers when Django rebuilds it)."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

SCRIPT = """
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from crisisnotes.accounts.models import Clinic, User
from crisisnotes.audit.models import AuditEvent
from sessions.models import Client, CrisisSession, ExplorationStage

clinic = Clinic.objects.create(name="Guard Clinic", slug="guard")
user = User.objects.create(username="g", full_name="G Example", clinic=clinic)
client = Client.objects.create(clinic=clinic, alias="Caller, green hat", created_by=user)
note = CrisisSession.objects.create(
    clinic=clinic, client=client, author=user, modality="phone", started_at=timezone.now()
)
ExplorationStage.objects.create(session=note, precipitating_event="before")
event = AuditEvent.objects.create(action="view", actor_username="g")
CrisisSession.objects.filter(pk=note.pk).update(status="signed")

def refused(sql, params):
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, params)
    except IntegrityError:
        return "refused"
    return "allowed"

print(refused(
    "UPDATE crisis_sessions_crisissession SET modality = 'text' WHERE id = %s", [note.pk]
))
print(refused(
    "UPDATE crisis_sessions_explorationstage SET precipitating_event = 'x' WHERE session_id = %s",
    [note.pk],
))
print(refused("DELETE FROM audit_auditevent WHERE id = %s", [event.pk]))
"""


def test_sqlite_rejects_changes_to_signed_notes_stage_rows_and_audit(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_ENV"}}
    env["CRISISNOTES_VAR_DIR"] = str(tmp_path)
    run = [sys.executable, "manage.py"]
    migrate = subprocess.run(
        [*run, "migrate", "--noinput"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert migrate.returncode == 0, migrate.stderr
    result = subprocess.run(
        [*run, "shell", "-v0", "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["refused", "refused", "refused"]
