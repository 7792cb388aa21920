"""Shared fixtures. The cast, after healthchecks' alice/bob/charlie:

- `counselor` and `teammate`: counselors on the same team of `clinic`, supervised by `supervisor`;
- `trainee`: a trainee counselor on that team; `clinic_admin`: the clinic's admin;
- `outsider`: a counselor (and admin) of `other_clinic`, who must never see anything of `clinic`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from django.test import Client as DjangoClient
from django.test.utils import override_settings

from crisisnotes.accounts.models import Clinic, Team, User
from crisisnotes.celery import app as celery_app
from tests.factories import ClinicFactory, TeamFactory, UserFactory
from tests.parallel import (
    migrated_sqlite,
    migrated_template,
    run_lock,
    start_background_builds,
    stop_background_builds,
)
from tests.workers import SESSION_QUEUE

celery_app.conf.task_default_queue = SESSION_QUEUE

# Playwright's sync API runs an event loop in the test thread; Django's ORM refuses to run there
# unless told it is safe. Tests only: the app never sets this.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Folders compilemessages never walks into (a virtualenv holds other packages' catalogues).
MESSAGES_IGNORE = (".venv", "var", "staticfiles", "node_modules", ".git")


_background_builds: list[Any] = []


def pytest_sessionstart(session: pytest.Session) -> None:
    _background_builds.extend(
        start_background_builds(session.config, Path(__file__).resolve().parent.parent)
    )


def pytest_sessionfinish(session: pytest.Session) -> None:
    stop_background_builds(_background_builds)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests of modules that drive Chromium or Celery worker processes first, in the order
    they were collected (and sorted by pytest-django). Those are the suite's long tests (up to
    two minutes); started last, one of them would run alone at the end of a parallel run while
    the other workers idle, so they go first and the many short tests fill in around them."""
    slow = {
        item.path
        for item in items
        if item.get_closest_marker("e2e") or item.get_closest_marker("worker")
    }
    items.sort(key=lambda item: item.path not in slow)  # a stable sort: the order is kept


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    # No browser download is possible here: drive Debian's Chromium.
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def django_db_modify_db_settings(
    django_db_modify_db_settings_parallel_suffix: None,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """On PostgreSQL every worker's test database is a copy of one migrated template
    (tests/parallel.py `migrated_template`), built once for the whole run."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        return
    with run_lock(tmp_path_factory, "migrated-template"):
        template = migrated_template(db, Path(settings.BASE_DIR))
    db.setdefault("TEST", {})["TEMPLATE"] = template


@pytest.fixture
def migrated_sqlite_var(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A CRISISNOTES_VAR_DIR whose SQLite file is what `manage.py migrate` builds in an empty
    folder (a copy of the run's one migration, tests/parallel.py `migrated_sqlite`)."""
    import shutil

    from django.conf import settings

    source = migrated_sqlite(tmp_path_factory, Path(settings.BASE_DIR))
    for path in source.parent.glob(f"{source.name}*"):  # with -wal/-shm, if any were left
        shutil.copy2(path, tmp_path / path.name)
    return tmp_path


@pytest.fixture(scope="session", autouse=True)
def _flush_by_delete() -> Any:
    """Empty the tables after a transactional test with DELETE rather than TRUNCATE, on
    PostgreSQL, as the tables' owner.

    Django's flush truncates the ~50 tables in one statement, then re-creates every content
    type and permission (its post_migrate): ~650 ms on an idle 2-core machine and ~2 s under
    the suite's load, after each of the ~200 browser, worker and race tests. TRUNCATE's cost is
    per table (new files for each table and index), not per row; the tests leave a few rows.
    Here the rows go by DELETE, with `session_replication_role = replica` for the transaction
    (a superuser's setting: the record guards' row triggers and the foreign keys' checks do not
    fire, as they do not for TRUNCATE), ~10 ms; the content types and permissions, which are the
    schema's and which no test changes, stay, so post_migrate finds them and writes nothing.
    The end state is the one TRUNCATE leaves: every other table empty, sequences where they
    were. Any other case (a flush that resets sequences, a connection that is not a superuser,
    another database) is Django's own flush."""
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush
    kept = {"django_content_type", "auth_permission"}
    superuser: dict[str, bool] = {}

    def sql_flush(
        self: Any,
        style: Any,
        tables: list[str],
        *,
        reset_sequences: bool = False,
        allow_cascade: bool = False,
    ) -> list[str]:
        alias = self.connection.alias
        if alias not in superuser:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                row = cursor.fetchone()
            superuser[alias] = bool(row and row[0])
        if reset_sequences or not tables or not superuser[alias]:
            return original(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return [
            "SET LOCAL session_replication_role = replica",
            *(f"DELETE FROM {self.quote_name(table)}" for table in tables if table not in kept),
        ]

    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original


@pytest.fixture(scope="session", autouse=True)
def _compiled_messages(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The translation catalogues (locale/*.po) compiled to .mo, as the install step does, so a
    test run from a fresh clone sees the Spanish texts (the .mo files are not in git).

    In a parallel run one worker at a time: msgfmt rewrites a .mo in place, which another worker
    could be reading half-written; the next ones find the .mo newer than its .po and skip it."""
    from django.core.management import call_command
    from django.utils.translation import trans_real

    with run_lock(tmp_path_factory, "compilemessages"):
        call_command("compilemessages", ignore_patterns=[*MESSAGES_IGNORE], verbosity=0)
    trans_real._translations = {}  # nothing loaded before this point keeps an empty catalogue


@pytest.fixture(scope="session", autouse=True)
def _private_storage_of_this_session(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Exported files in this session's own folder, not the checkout's var/private: parallel
    workers each have their own test database, whose ids (and so export folder names) repeat
    from one worker to the next. Tests that look at the files set their own folder as well."""
    private = tmp_path_factory.mktemp("private")
    with override_settings(PRIVATE_STORAGE_DIR=private, MEDIA_ROOT=private):
        yield


@pytest.fixture(autouse=True)
def _locmem_email(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def eager_tasks() -> Any:
    """Run Celery tasks in the calling process when they are sent (for tests of what a task
    does, not of the queue: tests/workers.py starts real workers for that)."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


@pytest.fixture
def clinic(db: None) -> Clinic:
    return ClinicFactory(name="Harbour Crisis Clinic")


@pytest.fixture
def other_clinic(db: None) -> Clinic:
    return ClinicFactory(name="Uplands Crisis Clinic")


@pytest.fixture
def supervisor(clinic: Clinic) -> User:
    return UserFactory(
        clinic=clinic,
        username="supervisor1",
        full_name="Morgan Testsuper",
        credential="LCSW",
        is_supervisor=True,
        is_counselor=True,
    )


@pytest.fixture
def team(clinic: Clinic, supervisor: User) -> Team:
    team = TeamFactory(clinic=clinic, name="Night team", supervisor=supervisor)
    supervisor.team = team
    supervisor.save(update_fields=["team"])
    return team


@pytest.fixture
def counselor(clinic: Clinic, team: Team) -> User:
    return UserFactory(clinic=clinic, team=team, username="counselor1", full_name="Robin Testcase")


@pytest.fixture
def teammate(clinic: Clinic, team: Team) -> User:
    return UserFactory(clinic=clinic, team=team, username="teammate1", full_name="Jamie Testmate")


@pytest.fixture
def trainee(clinic: Clinic, team: Team) -> User:
    return UserFactory(
        clinic=clinic,
        team=team,
        username="trainee1",
        full_name="Sam Testintern",
        credential="Counseling intern",
        licence_number="",
        is_trainee=True,
    )


@pytest.fixture
def clinic_admin(clinic: Clinic) -> User:
    return UserFactory(
        clinic=clinic,
        username="admin1",
        full_name="Alex Testadmin",
        credential="",
        is_counselor=False,
        is_clinic_admin=True,
    )


@pytest.fixture
def outsider(other_clinic: Clinic) -> User:
    return UserFactory(
        clinic=other_clinic,
        username="outsider1",
        full_name="Charlie Elsewhere",
        is_supervisor=True,
        is_clinic_admin=True,
    )


def login(client: DjangoClient, user: User) -> DjangoClient:
    """Sign in as after a real password (and, where required, two-factor) sign-in followed by
    a re-authentication: allauth's record of it is what bulk export and role changes check."""
    import time

    from allauth.mfa.models import Authenticator

    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    if (user.is_clinic_admin or user.is_superuser) and not Authenticator.objects.filter(
        user=user, type=Authenticator.Type.TOTP
    ).exists():
        Authenticator.objects.create(
            user=user, type=Authenticator.Type.TOTP, data={"secret": "JBSWY3DPEHPK3PXP"}
        )
    session = client.session
    session["account_authentication_methods"] = [
        {"method": "password", "at": time.time(), "reauthenticated": True}
    ]
    session["account_authentication_methods_user"] = str(user.pk)
    session.save()
    return client


@pytest.fixture
def counselor_client(client: DjangoClient, counselor: User) -> DjangoClient:
    return login(client, counselor)


@pytest.fixture
def admin_client_(client: DjangoClient, clinic_admin: User) -> DjangoClient:
    return login(client, clinic_admin)
