"""Database-level guards that no code path (admin, shell, bulk update, raw SQL) can get around.

`ProtectRows` is a migration operation that installs a trigger rejecting INSERT, UPDATE and/or
DELETE of rows matching a SQL condition. It writes a PL/pgSQL trigger on PostgreSQL and plain
triggers on SQLite, so the embedded default keeps the same guarantee. Each condition is SQL shared
by both dialects: the INSERT one may refer to NEW, the UPDATE one to OLD and NEW, the DELETE one
to OLD, e.g. ``OLD.status = 'signed'``.

`ProtectColumns` rejects an UPDATE matching a condition that changes any column but a named few
(e.g. co-signing may set the co-sign columns of a note awaiting co-signature, nothing else). It
compares whole rows, so a column added by a later migration is covered without a new trigger.

A rejected statement raises django.db.IntegrityError (SQLSTATE 23001 restrict_violation on
PostgreSQL, SQLITE_CONSTRAINT on SQLite).

SQLite needs care: Django alters a SQLite table by rebuilding it (create, copy, drop, rename),
which silently drops the table's own triggers and fails on triggers of other tables that name it.
So on SQLite the operation installs nothing while migrating; instead `migrate` drops every trigger
before it starts (pre_migrate) and installs the triggers of all applied ProtectRows operations
when it ends (post_migrate). PostgreSQL alters tables in place and keeps its triggers.

`plan_joins_as_written` is a planner setting, not a guard: for the rest of a transaction,
PostgreSQL joins in the written order (the note's many-table reads, where that order is the
best one and searching the others is most of their cost).
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation
from django.db.migrations.recorder import MigrationRecorder
from django.db.models.signals import post_migrate, pre_migrate

from crisisnotes.prepared import Statement


class ProtectRows(Operation):
    reversible = True
    reduces_to_sql = True

    def __init__(
        self,
        *,
        name: str,
        table: str,
        message: str,
        update_when: str | None = "TRUE",
        delete_when: str | None = "TRUE",
        insert_when: str | None = None,
    ) -> None:
        if "'" in message:
            raise ValueError("ProtectRows message must not contain quotes")
        self.name = name
        self.table = table
        self.message = message
        self.update_when = update_when
        self.delete_when = delete_when
        self.insert_when = insert_when

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (
            self.__class__.__name__,
            [],
            {
                "name": self.name,
                "table": self.table,
                "message": self.message,
                "update_when": self.update_when,
                "delete_when": self.delete_when,
                "insert_when": self.insert_when,
            },
        )

    def state_forwards(self, app_label: str, state: Any) -> None:
        pass

    def describe(self) -> str:
        return f"Protect rows of {self.table} ({self.name})"

    # --- SQL per dialect -------------------------------------------------------------------

    def _conditions(self, connection: Any) -> dict[str, str]:
        """{operation: condition} for the operations this trigger guards, in a fixed order."""
        conditions = {
            "INSERT": self.insert_when,
            "UPDATE": self.update_when,
            "DELETE": self.delete_when,
        }
        return {op: cond for op, cond in conditions.items() if cond is not None}

    def _postgres_install(self, connection: Any) -> list[str]:
        conditions = self._conditions(connection)
        # Nested IFs: PL/pgSQL does not promise to short-circuit AND, and NEW does not exist in
        # a DELETE (nor OLD in an INSERT).
        body = "\n  ".join(
            f"IF TG_OP = '{op}' THEN IF ({cond}) THEN {self._raise()} END IF; END IF;"
            for op, cond in conditions.items()
        )
        events = " OR ".join(conditions)
        return [
            f"""CREATE OR REPLACE FUNCTION {self.name}() RETURNS trigger AS $$
BEGIN
  {body}
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  RETURN NEW;
END;
$$ LANGUAGE plpgsql""",
            f"DROP TRIGGER IF EXISTS {self.name} ON {self.table}",
            f"CREATE TRIGGER {self.name} BEFORE {events} ON {self.table} "
            f"FOR EACH ROW EXECUTE FUNCTION {self.name}()",
        ]

    def _raise(self) -> str:
        return f"RAISE EXCEPTION '{self.message}' USING ERRCODE = 'restrict_violation';"

    def _postgres_remove(self) -> list[str]:
        return [
            f"DROP TRIGGER IF EXISTS {self.name} ON {self.table}",
            f"DROP FUNCTION IF EXISTS {self.name}()",
        ]

    def _sqlite_install(self, connection: Any) -> list[str]:
        statements = []
        for op, cond in self._conditions(connection).items():
            # Drop first: the conditions are recomputed at every install (see ProtectColumns).
            statements.append(f"DROP TRIGGER IF EXISTS {self.name}_{op.lower()}")
            statements.append(
                f"CREATE TRIGGER {self.name}_{op.lower()} "
                f"BEFORE {op} ON {self.table} FOR EACH ROW WHEN ({cond}) "
                f"BEGIN SELECT RAISE(ABORT, '{self.message}'); END"
            )
        return statements

    def _sqlite_remove(self) -> list[str]:
        return [f"DROP TRIGGER IF EXISTS {self.name}_{op}" for op in ("insert", "update", "delete")]

    def _run(self, schema_editor: Any, install: bool) -> None:
        connection = schema_editor.connection
        vendor = connection.vendor
        if vendor == "postgresql":
            statements = self._postgres_install(connection) if install else self._postgres_remove()
        elif vendor == "sqlite":
            statements = self._sqlite_install(connection) if install else self._sqlite_remove()
        else:
            raise ImproperlyConfigured(f"ProtectRows has no trigger for the {vendor} database")
        for statement in statements:
            schema_editor.execute(statement, params=None)

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "sqlite":  # SQLite: see the module docstring
            self._run(schema_editor, install=True)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        if schema_editor.connection.vendor != "sqlite":
            self._run(schema_editor, install=False)


class ProtectColumns(ProtectRows):
    """Reject an UPDATE for which `when` holds and that changes any column not in `allowed`, or
    leaves `require` (a condition on NEW) false. INSERT and DELETE are not guarded here.

    PostgreSQL compares the whole rows as JSON minus the allowed columns, so columns added later
    are frozen too. SQLite has no such row value: it lists the table's columns when the trigger
    is installed, which on SQLite is after every `migrate` (see the module docstring)."""

    def __init__(
        self,
        *,
        name: str,
        table: str,
        message: str,
        when: str,
        allowed: list[str],
        require: str = "TRUE",
    ) -> None:
        super().__init__(
            name=name, table=table, message=message, update_when=when, delete_when=None
        )
        self.when = when
        self.allowed = list(allowed)
        self.require = require

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (
            self.__class__.__name__,
            [],
            {
                "name": self.name,
                "table": self.table,
                "message": self.message,
                "when": self.when,
                "allowed": self.allowed,
                "require": self.require,
            },
        )

    def describe(self) -> str:
        return f"Allow only {', '.join(self.allowed)} to change in {self.table} ({self.name})"

    def _conditions(self, connection: Any) -> dict[str, str]:
        if connection.vendor == "postgresql":
            keep = ", ".join(f"'{column}'" for column in self.allowed)
            changed = (
                f"(to_jsonb(NEW) - ARRAY[{keep}]::text[]) "
                f"IS DISTINCT FROM (to_jsonb(OLD) - ARRAY[{keep}]::text[])"
            )
        else:
            with connection.cursor() as cursor:
                columns = [
                    column.name
                    for column in connection.introspection.get_table_description(cursor, self.table)
                ]
            frozen = [c for c in columns if c not in self.allowed]
            changed = " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in frozen) or "FALSE"
        return {"UPDATE": f"({self.when}) AND (({changed}) OR NOT ({self.require}))"}


def _sqlite_drop_guards(*, using: str = "default", **kwargs: Any) -> None:
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP TRIGGER IF EXISTS "{name}"')


def _sqlite_install_guards(*, using: str = "default", **kwargs: Any) -> None:
    connection = connections[using]
    if connection.vendor != "sqlite":
        return
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    applied = MigrationRecorder(connection).applied_migrations()
    with connection.schema_editor() as schema_editor:
        for key in sorted(loader.graph.nodes):
            if key not in applied:
                continue
            for operation in loader.graph.nodes[key].operations:
                if isinstance(operation, ProtectRows):
                    operation._run(schema_editor, install=True)


def connect_sqlite_guards(sender: Any) -> None:
    """Wire the SQLite trigger handling to `migrate` (called once, from an AppConfig.ready)."""
    pre_migrate.connect(_sqlite_drop_guards, sender=sender, dispatch_uid="sqlite_drop_guards")
    post_migrate.connect(
        _sqlite_install_guards, sender=sender, dispatch_uid="sqlite_install_guards"
    )


# plan_joins_as_written's statement, for a caller that sends it first among others in one
# round trip (crisisnotes.prepared.run_together: their implicit transaction is LOCAL's).
PLAN_JOINS_AS_WRITTEN: Statement = ("SET LOCAL join_collapse_limit = 1", ())


def plan_joins_as_written(using: str = "default") -> None:
    """For the rest of the current transaction, have PostgreSQL join tables in the order a
    statement writes them (`SET LOCAL join_collapse_limit = 1`); elsewhere, nothing.

    For a read that joins many tables, each on a key of one row (the note and its stages): the
    written order is the best one, yet the planner searches the orders of up to eight of them,
    ~3 ms of planning for 0.3 ms of execution. LOCAL ends with the transaction, and PgBouncer's
    transaction pooling keeps a transaction on one server connection. Call it only in a
    transaction whose remaining statements are such reads or single-table ones."""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    assert connection.in_atomic_block, "SET LOCAL outside a transaction would do nothing"
    with connection.cursor() as cursor:
        cursor.execute(*PLAN_JOINS_AS_WRITTEN)
