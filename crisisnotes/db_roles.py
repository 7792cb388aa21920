"""The two PostgreSQL roles of a production database.

- The **owner** role owns the schema, every table and every trigger. Only `manage.py migrate`
  and `manage.py db_roles` connect as it, through DATABASE_OWNER_URL.
- The **runtime** role is what web, worker and beat connect as (DATABASE_URL). It may read and
  write rows and nothing else: SELECT, INSERT, UPDATE, DELETE on the tables, USAGE and SELECT on
  the sequences. It owns nothing (so it cannot ALTER or DROP a table, nor DISABLE or DROP a
  trigger), has no TRUNCATE (which skips row triggers), is no superuser (so it cannot set
  `session_replication_role = replica`, which skips every trigger) and cannot CREATE in the
  schema. Default privileges grant it every table and sequence the owner creates later, so a new
  migration needs no grant of its own.

`runtime_role_ensure` is the one bootstrap; `manage.py db_roles` runs it in production and the
tests run it on the test database, so the tests prove what production gets. It is idempotent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import environ
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
SEQUENCE_PRIVILEGES = ("USAGE", "SELECT")
# Table privileges the runtime role must never hold: TRUNCATE empties a table without firing row
# triggers; TRIGGER and REFERENCES are schema-level powers.
FORBIDDEN_TABLE_PRIVILEGES = ("TRUNCATE", "TRIGGER", "REFERENCES")
ROLE_ATTRIBUTES = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"

_ROLE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class RoleSetupError(Exception):
    """The runtime role cannot be set up as asked; the message says why."""


def _name(role: str) -> str:
    # Role names go into SQL as identifiers, which cannot be bound parameters: accept only the
    # plain lower-case names PostgreSQL would not need to quote.
    if not _ROLE_NAME.match(role or ""):
        raise RoleSetupError(
            f"Database role name {role!r} must be lower-case letters, digits and underscores."
        )
    return f'"{role}"'


def _identifier(name: str) -> str:
    """Quote a name read from the server (database, owner), which may need it."""
    return '"' + name.replace('"', '""') + '"'


def runtime_role_ensure(
    *, connection: BaseDatabaseWrapper, role: str, password: str | None, schema: str = "public"
) -> None:
    """Create (or correct) the runtime `role` on the connection's database, connected as the
    owner of its tables: login, no superuser or other powers, data grants only on every table
    and sequence of `schema`, the same for whatever the current user creates there later, and
    nothing else. Idempotent; all or nothing (one transaction)."""
    if connection.vendor != "postgresql":
        raise RoleSetupError("Database roles exist on PostgreSQL only.")
    quoted, quoted_schema = _name(role), _name(schema)
    with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
        cursor.execute("SELECT current_user, current_database()")
        owner, database = cursor.fetchone()
        if owner == role:
            raise RoleSetupError(
                f"The runtime role {role!r} is the role running the bootstrap: give DATABASE_URL "
                "a role of its own and DATABASE_OWNER_URL the owner of the tables."
            )
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
        if cursor.fetchone() is None:
            try:
                with transaction.atomic(using=connection.alias):
                    cursor.execute(f"CREATE ROLE {quoted} {ROLE_ATTRIBUTES}")
            except DatabaseError:
                # Created meanwhile by a concurrent bootstrap (roles are cluster-wide): the
                # ALTER below sets it up all the same.
                cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role])
                if cursor.fetchone() is None:
                    raise
        cursor.execute(f"ALTER ROLE {quoted} {ROLE_ATTRIBUTES}")
        # A member of the owner may SET ROLE to it (PostgreSQL only warns if it is not one).
        cursor.execute(f"REVOKE {_identifier(owner)} FROM {quoted}")
        if password:
            # Django's psycopg cursor binds client-side, so a utility statement takes %s.
            cursor.execute(f"ALTER ROLE {quoted} PASSWORD %s", [password])
        cursor.execute(f"GRANT CONNECT ON DATABASE {_identifier(database)} TO {quoted}")
        cursor.execute(f"GRANT USAGE ON SCHEMA {quoted_schema} TO {quoted}")
        cursor.execute(f"REVOKE CREATE ON SCHEMA {quoted_schema} FROM {quoted}")
        # Start from nothing, so a privilege granted by hand earlier (TRUNCATE...) goes too.
        cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA {quoted_schema} FROM {quoted}")
        cursor.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA {quoted_schema} FROM {quoted}")
        tables, sequences = ", ".join(TABLE_PRIVILEGES), ", ".join(SEQUENCE_PRIVILEGES)
        cursor.execute(f"GRANT {tables} ON ALL TABLES IN SCHEMA {quoted_schema} TO {quoted}")
        cursor.execute(f"GRANT {sequences} ON ALL SEQUENCES IN SCHEMA {quoted_schema} TO {quoted}")
        default = (
            f"ALTER DEFAULT PRIVILEGES FOR ROLE {_identifier(owner)} IN SCHEMA {quoted_schema}"
        )
        cursor.execute(f"{default} REVOKE ALL ON TABLES FROM {quoted}")
        cursor.execute(f"{default} REVOKE ALL ON SEQUENCES FROM {quoted}")
        cursor.execute(f"{default} GRANT {tables} ON TABLES TO {quoted}")
        cursor.execute(f"{default} GRANT {sequences} ON SEQUENCES TO {quoted}")


def runtime_role_problems(
    *, connection: BaseDatabaseWrapper, role: str, schema: str = "public"
) -> list[str]:
    """Everything that lets `role` do more than data work on the connection's database, or less
    than the app needs; empty when it is a proper runtime role."""
    _name(role)
    problems: list[str] = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls "
            "FROM pg_roles WHERE rolname = %s",
            [role],
        )
        row = cursor.fetchone()
        if row is None:
            return [f"role {role} does not exist"]
        powers = ("SUPERUSER", "CREATEROLE", "CREATEDB", "REPLICATION", "BYPASSRLS")
        problems += [
            f"role {role} has {power}" for power, has in zip(powers, row, strict=True) if has
        ]
        cursor.execute(
            "SELECT c.relname, pg_get_userbyid(c.relowner), "
            "pg_has_role(%s, c.relowner, 'MEMBER') "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'S', 'v', 'm') "
            "ORDER BY c.relname",
            [role, schema],
        )
        relations = cursor.fetchall()
        owners = sorted({owner for _, owner, usage in relations if usage})
        problems += [f"role {role} is, or may act as, {owner}, who owns tables" for owner in owners]
        if connection.pg_version >= 150000:  # type: ignore[attr-defined]
            cursor.execute(
                "SELECT has_parameter_privilege(%s, 'session_replication_role', 'SET')", [role]
            )
            if cursor.fetchone()[0]:
                problems.append(f"role {role} may SET session_replication_role")
        cursor.execute("SELECT has_schema_privilege(%s, %s, 'CREATE')", [role, schema])
        if cursor.fetchone()[0]:
            problems.append(f"role {role} may CREATE in schema {schema}")
        checks = ", ".join(
            f"has_table_privilege(%s, c.oid, '{p}')"
            for p in (*FORBIDDEN_TABLE_PRIVILEGES, *TABLE_PRIVILEGES)
        )
        cursor.execute(
            f"SELECT c.relname, {checks} FROM pg_class c "  # noqa: S608 (privilege names only)
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind IN ('r', 'p') ORDER BY c.relname",
            [role] * (len(FORBIDDEN_TABLE_PRIVILEGES) + len(TABLE_PRIVILEGES)) + [schema],
        )
        for table, *flags in cursor.fetchall():
            forbidden = dict(zip(FORBIDDEN_TABLE_PRIVILEGES, flags, strict=False))
            needed = dict(
                zip(TABLE_PRIVILEGES, flags[len(FORBIDDEN_TABLE_PRIVILEGES) :], strict=True)
            )
            problems += [f"role {role} has {p} on {table}" for p, has in forbidden.items() if has]
            problems += [
                f"role {role} lacks {p} on {table}" for p, has in needed.items() if not has
            ]
    return problems


@contextmanager
def owner_connection(alias: str = "default") -> Iterator[BaseDatabaseWrapper]:
    """Connect `alias` as the owner role of DATABASE_OWNER_URL for the duration (for `migrate`
    and `db_roles`), then back as DATABASE_URL's role. Without DATABASE_OWNER_URL (the embedded
    default, the tests) nothing changes."""
    connection = connections[alias]
    url = getattr(settings, "DATABASE_OWNER_URL", "")
    if not url:
        yield connection
        return
    owner: dict[str, Any] = environ.Env.db_url_config(url)
    current = connection.settings_dict
    if owner["ENGINE"] != current["ENGINE"] or owner["NAME"] != current["NAME"]:
        raise ImproperlyConfigured(
            "DATABASE_OWNER_URL must name the same database as DATABASE_URL "
            f"({current['NAME']!r}), as its owner role."
        )
    saved = {key: current.get(key) for key in ("USER", "PASSWORD", "HOST", "PORT")}
    connection.close()
    current.update({key: owner.get(key) for key in saved})
    try:
        yield connection
    finally:
        connection.close()
        current.update(saved)
