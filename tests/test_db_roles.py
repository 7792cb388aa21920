"""The runtime database role, on the real PostgreSQL: set up by the production bootstrap
(`manage.py db_roles`, connected as the owner), it does the app's work and nothing that would get
around the triggers — no TRUNCATE, no DISABLE/DROP TRIGGER, no session_replication_role, no
ALTER/DROP/CREATE of tables.

pytest-django creates the test database as the superuser of DATABASE_URL, who therefore owns
its tables: that superuser plays the owner role here, exactly as the owner role of
DATABASE_OWNER_URL does in production.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.test import override_settings

from crisisnotes.audit.models import AuditEvent
from crisisnotes.db_roles import owner_connection, runtime_role_problems
from crisisnotes.notifications.models import Notification
from sessions.models import Addendum, CrisisSession
from sessions.models.notes import NoteStatus
from sessions.services.signing import note_content_hash
from tests.parallel import per_worker

ROOT = Path(__file__).resolve().parent.parent
# `.ci/services.sh` creates this role for `make test`; the bootstrap creates it if missing.
# Roles belong to the whole server: in a parallel run each worker has its own (`..._gw1`), so one
# worker's hand-granted privilege or password change is never what another worker checks.
ROLE = per_worker(os.environ.get("CRISISNOTES_RUNTIME_ROLE", "crisisnotes_runtime"))
PASSWORD = "runtime-role-test-only"  # invented; the test server trusts loopback anyway

pytestmark = pytest.mark.django_db(transaction=True)


def _url(user: str, password: str = "") -> str:
    db = connection.settings_dict
    auth = quote(user) + (f":{quote(password)}" if password else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**os.environ, "CELERY_TASK_ALWAYS_EAGER": "true", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def runtime_url(django_db_setup: None) -> str:
    """The runtime role, set up on the test database by the production bootstrap: `db_roles`
    with DATABASE_URL naming the runtime role and DATABASE_OWNER_URL the tables' owner. Grants
    outlive the data flushed between tests, so once per module is enough."""
    owner = connection.settings_dict["USER"]
    url = _url(ROLE, PASSWORD)
    result = _manage("db_roles", env={"DATABASE_URL": url, "DATABASE_OWNER_URL": _url(owner)})
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"Runtime role {ROLE}: data grants only" in result.stdout
    return url


def _refused(url: str, statement: str) -> str:
    """The SQLSTATE with which the runtime role's statement fails ('' if it succeeded)."""
    with psycopg.connect(url, autocommit=True) as conn:
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            return exc.sqlstate or "?"
    return ""


INSUFFICIENT_PRIVILEGE = "42501"


BYPASSES = [
    "TRUNCATE audit_auditevent",
    "TRUNCATE crisis_sessions_crisissession CASCADE",
    "ALTER TABLE audit_auditevent DISABLE TRIGGER audit_event_append_only",
    "ALTER TABLE crisis_sessions_crisissession DISABLE TRIGGER ALL",
    "DROP TRIGGER audit_event_append_only ON audit_auditevent",
    "DROP FUNCTION audit_event_append_only() CASCADE",
    "CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger "
    "AS $$ BEGIN RETURN NEW; END; $$ LANGUAGE plpgsql",
    # A trigger of its own that runs first and returns NULL would skip every row's guard.
    "CREATE TRIGGER aa_skip BEFORE DELETE ON audit_auditevent FOR EACH ROW "
    "EXECUTE FUNCTION audit_event_append_only()",
    "SET session_replication_role = replica",
    "ALTER TABLE crisis_sessions_crisissession ADD COLUMN forged text",
    "ALTER TABLE audit_auditevent RENAME TO audit_old",
    f"ALTER TABLE audit_auditevent OWNER TO {ROLE}",
    "DROP TABLE audit_auditevent CASCADE",
    "CREATE TABLE audit_shadow (id int)",
    f"ALTER ROLE {ROLE} SUPERUSER",
]


def test_runtime_role_cannot_get_around_the_guards(runtime_url):
    refused = {statement: _refused(runtime_url, statement) for statement in BYPASSES}
    assert refused == dict.fromkeys(BYPASSES, INSUFFICIENT_PRIVILEGE)


def test_runtime_role_is_held_by_the_triggers_and_audit_rows_survive(runtime_url):
    event = AuditEvent.objects.create(action="view", actor_username="someone")
    restrict_violation = "23001"
    assert _refused(runtime_url, f"DELETE FROM audit_auditevent WHERE id = {event.pk}") == (
        restrict_violation
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_bootstrap_is_idempotent_and_the_check_finds_nothing(runtime_url):
    owner = connection.settings_dict["USER"]
    again = _manage(
        "db_roles", env={"DATABASE_URL": runtime_url, "DATABASE_OWNER_URL": _url(owner)}
    )
    assert again.returncode == 0, again.stderr
    check = _manage("db_roles", "--check", env={"DATABASE_URL": runtime_url})
    assert check.returncode == 0, check.stderr
    assert runtime_role_problems(connection=connection, role=ROLE) == []
    # And the check is not blind: the owner is everything a runtime role must not be.
    problems = runtime_role_problems(connection=connection, role=owner)
    assert f"role {owner} has SUPERUSER" in problems


def test_bootstrap_takes_back_a_privilege_granted_by_hand(runtime_url):
    owner = connection.settings_dict["USER"]
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"GRANT TRUNCATE ON audit_auditevent TO {ROLE}")
            cursor.execute(f'GRANT "{owner}" TO {ROLE}')
        problems = runtime_role_problems(connection=connection, role=ROLE)
        assert f"role {ROLE} has TRUNCATE on audit_auditevent" in problems
        assert f"role {ROLE} is, or may act as, {owner}, who owns tables" in problems
        env = {"DATABASE_URL": runtime_url, "DATABASE_OWNER_URL": _url(owner)}
        result = _manage("db_roles", env=env)
        assert result.returncode == 0, result.stderr
        assert _refused(runtime_url, "TRUNCATE audit_auditevent") == INSUFFICIENT_PRIVILEGE
        assert _refused(runtime_url, f'SET ROLE "{owner}"') == INSUFFICIENT_PRIVILEGE
    finally:  # the role outlives the test database: never leave it a member of the owner
        with connection.cursor() as cursor:
            cursor.execute(f'REVOKE "{owner}" FROM {ROLE}')


def test_tables_the_owner_adds_later_are_granted_for_data_only(runtime_url):
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE zz_added_by_a_later_migration (id bigserial, text text)")
    try:
        with psycopg.connect(runtime_url, autocommit=True) as conn:
            conn.execute("INSERT INTO zz_added_by_a_later_migration (text) VALUES ('row')")
            assert conn.execute("SELECT text FROM zz_added_by_a_later_migration").fetchall() == [
                ("row",)
            ]
        assert _refused(runtime_url, "TRUNCATE zz_added_by_a_later_migration") == (
            INSUFFICIENT_PRIVILEGE
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE zz_added_by_a_later_migration")


# The app's own work, as the runtime role: the demo seed creates users, clients and a note, and
# writes and signs it through the services (note_create → note_autosave → note_end → note_sign);
# then an addendum is added to the signed note, and the signed note still refuses a change; a
# follow-up two hours overdue is reminded and escalated by the scan (its one statement takes the
# e-mails' ids from the outbox's sequence).
APP_WORK = """
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from crisisnotes.accounts.models import User
from sessions.models import CrisisSession
from sessions.models.notes import AddendumKind
from sessions.services.addenda import addendum_add

call_command("seed_demo", stdout=open("/dev/null", "w"))
with connection.cursor() as cursor:
    cursor.execute("SELECT current_user")
    print("as", cursor.fetchone()[0])
note = CrisisSession.objects.get(status="signed")
author = User.objects.get(pk=note.author_id)
addendum_add(note=note, user=author, kind=AddendumKind.LATE_ENTRY, text="Called back.",
             reason="Remembered after the call")
try:
    with transaction.atomic():
        CrisisSession.objects.filter(pk=note.pk).update(modality="text")
except IntegrityError:
    print("signed note refused")
from datetime import timedelta
from django.utils import timezone
from sessions.services.followups import followup_scan, followup_task_create
from sessions.services.notes import note_create
draft = note_create(author=author, client=note.client, modality="phone",
                    started_at=timezone.now() - timedelta(hours=14))
followup_task_create(actor=author, note=draft, assigned_to=author, method="call",
                     due_at=timezone.now() - timedelta(hours=12))
scanned = followup_scan(parallel=1)
print("scan", scanned.reminders >= 1, scanned.escalations >= 1)
"""


def test_runtime_role_does_the_apps_work(runtime_url):
    result = _manage("shell", "-v0", "-c", APP_WORK, env={"DATABASE_URL": runtime_url})
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == [f"as {ROLE}", "signed note refused"]
    assert "scan True True" in result.stdout.split("\n")  # after the e-mails the console prints
    note = CrisisSession.objects.get(status=NoteStatus.SIGNED)
    assert note.content_hash == note_content_hash(note)
    assert Addendum.objects.filter(session=note).count() == 1
    assert AuditEvent.objects.filter(action="sign", object_id=str(note.pk)).exists()
    # The scan's notifications each point at an e-mail of their recipient's.
    mailed = Notification.objects.filter(kind__startswith="followup_").select_related("email")
    assert mailed and all(n.email and n.email.recipient_id == n.recipient_id for n in mailed)


def test_migrate_and_db_roles_connect_as_the_owner_only_while_they_run(runtime_url):
    def current_user() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_user")
            return cursor.fetchone()[0]

    # Here the default connection plays the runtime role and the runtime role the owner: what
    # matters is that the connection switches to DATABASE_OWNER_URL's role, and back.
    usual_user = connection.settings_dict["USER"]
    with override_settings(DATABASE_OWNER_URL=_url(ROLE, PASSWORD)):
        with owner_connection() as owner:
            assert owner is connections["default"]
            assert current_user() == ROLE
        assert current_user() == usual_user
    elsewhere = _url(ROLE).rsplit("/", 1)[0] + "/elsewhere"
    with (
        override_settings(DATABASE_OWNER_URL=elsewhere),
        pytest.raises(ImproperlyConfigured, match="same database"),
        owner_connection(),
    ):
        pass
    assert current_user() == usual_user
