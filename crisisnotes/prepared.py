"""Reads compiled to SQL once per process, then run with each request's ids.

The ORM compiles a queryset to SQL at every evaluation, and on the note page that compilation
was a fifth of the worker's time: about twenty reads a request, one of them a 13-table join of
~250 columns whose compilation alone costs more than running it. The reads are the same every
time but for their ids (the note's, the user's, the clinic's). A `PreparedRead` is such a read:
`build(**ids)` returns the queryset as the selector writes it (the one home of its filters), it
is compiled on first use, and later calls put their ids into that SQL's parameters and run it
through Django's own iteration (model instances, `select_related` objects, converters,
`prefetch_related`), so a caller sees the objects the queryset would give.

How the ids are placed: the queryset is built and compiled twice with two sets of stand-in ids
(negative, out of any real key's range); the two SQL texts must be the same and each parameter
must be either a constant in both or the same id's stand-in in both: otherwise the read's SQL
depends on the values themselves and the class refuses it (ValueError at first use). Anything
else the SQL depends on (the user's roles in a visibility rule) is the `shape` key: one
compiled read per shape. Integer ids are bound, and the points in time a read names in
`times` (aware datetimes, such as the moment a note was signed: each is put into the SQL as the
backend adapts a DateTimeField's value); an id or time given as None is a shape of its own. Any
other string or date parameter stays what `build` wrote, a constant of the shape.

Read ahead: a page that makes a dozen such reads paid a round trip to PostgreSQL for each
(the driver's wait was a quarter of the note page's time). `read_ahead(statements)` sends the
statements a page is about to run (`PreparedRead.statement(**ids)`, the very SQL and parameters
its call would send) in one round trip, several statements in one query string (psycopg's
client-side binding, Django's default), and inside the block the first read of each takes those
rows instead of sending its statement again: the objects are built from them by Django's own
iteration, as they would have been. A statement is matched on its whole SQL and parameters,
and each read-ahead result serves one read: a read the block did not foresee, or a second read
of the same, runs as before. For a page's render, where nothing is written between the read
ahead and the reads.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet
from django.db.models.sql.constants import MULTI

M = TypeVar("M", bound=Model)

# Two stand-in sets: ids no row has (negative, beyond a 32-bit key), distinct per name; and
# times no row of this application holds, distinct per name.
_STAND_INS = (-1_000_000_000_011, -2_000_000_000_017)
_TIME_STAND_INS = (
    datetime(1901, 1, 1, 0, 0, 11, tzinfo=UTC),
    datetime(1902, 2, 2, 0, 0, 17, tzinfo=UTC),
)


# One statement as sent: its SQL (with %s placeholders) and its parameters.
Statement = tuple[str, tuple[Any, ...]]


def run_together(
    statements: Sequence[Statement], *, using: str = DEFAULT_DB_ALIAS
) -> list[list[tuple[Any, ...]]]:
    """Each statement's rows (none for a statement that returns none, such as SET), the
    statements sent to PostgreSQL in one round trip: one query string, run as one implicit
    transaction outside a caller's (so a SET LOCAL first holds for the others, and only for
    them; inside a transaction it holds to its end, as ever). Elsewhere one by one."""
    connection = connections[using]
    results: list[list[tuple[Any, ...]]] = []
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":
            for sql, params in statements:
                cursor.execute(sql, params)
                results.append(list(cursor.fetchall()) if cursor.description else [])
            return results
        sql = ";\n".join(sql for sql, _params in statements)
        cursor.execute(sql, [param for _sql, params in statements for param in params])
        while True:
            results.append(list(cursor.fetchall()) if cursor.description else [])
            if not cursor.nextset():
                break
    if len(results) != len(statements):
        raise ValueError(f"{len(statements)} statements gave {len(results)} results")
    return results


# The rows read ahead in this context (`read_ahead`), by statement, each list to be taken once.
_AHEAD: ContextVar[dict[Statement, list[list[tuple[Any, ...]]]] | None] = ContextVar(
    "prepared_read_ahead", default=None
)


@contextmanager
def read_ahead(statements: Iterable[Statement], *, using: str = DEFAULT_DB_ALIAS) -> Iterator[None]:
    """Run `statements` now, in one round trip; inside the block the first read of each (the
    same SQL and parameters, `take_ahead`) gets those rows without a query. See the module's
    docstring: for a render that writes nothing."""
    statements = list(statements)
    ahead: dict[Statement, list[list[tuple[Any, ...]]]] = {}
    if statements:
        for statement, rows in zip(statements, run_together(statements, using=using), strict=True):
            ahead.setdefault(statement, []).append(rows)
    token = _AHEAD.set(ahead)
    try:
        yield
    finally:
        _AHEAD.reset(token)


def take_ahead(statement: Statement) -> list[tuple[Any, ...]] | None:
    """The rows `statement` gave when read ahead in this context (once), else None."""
    ahead = _AHEAD.get()
    if not ahead:
        return None
    found = ahead.get(statement)
    if not found:
        return None
    rows = found.pop(0)
    if not found:
        del ahead[statement]
    return rows


class _Compiled:
    def __init__(self, queryset: QuerySet[Any], sql: str, slots: list[tuple[int, str]]) -> None:
        self.queryset = queryset
        self.compiler = queryset.query.get_compiler(using=queryset.db)
        # as_sql() fills the compiler's select, klass_info and column count, which the model
        # iteration reads; its SQL and parameters are the ones checked by `_prepare`.
        _sql, params = self.compiler.as_sql()
        assert _sql == sql
        self.sql = sql
        self.params = list(params)
        self.slots = slots


class PreparedRead(Generic[M]):
    """A read whose SQL is compiled once per process and shape (see the module's docstring).

    `build(**ids)` makes the queryset from integer ids (and the aware datetimes named in
    `times`); `shape(**ids)` (optional) names what else its SQL depends on, from the same
    arguments. Calling the read with the ids returns the list of objects the queryset gives.
    `ahead=False`: the read always runs its statement, never takes rows read ahead (a read made
    under a row lock must see what is stored once the lock is held)."""

    def __init__(
        self,
        build: Callable[..., QuerySet[M]],
        *,
        ids: tuple[str, ...],
        times: tuple[str, ...] = (),
        shape: Callable[..., Hashable] | None = None,
        ahead: bool = True,
    ) -> None:
        self.build = build
        self.ids = ids
        self.times = times
        self.shape = shape
        self.ahead = ahead
        self._compiled: dict[Hashable, _Compiled] = {}
        self._lock = threading.Lock()

    def stand_ins(self, which: int, nulls: tuple[str, ...] = ()) -> dict[str, Any]:
        base, moment = _STAND_INS[which], _TIME_STAND_INS[which]
        return {
            **{
                name: base - 1_000 * number
                for number, name in enumerate(self.ids)
                if name not in nulls
            },
            **{
                name: moment + timedelta(days=number)
                for number, name in enumerate(self.times)
                if name not in nulls
            },
        }

    def _sent(self, queryset: QuerySet[Any], name: str, value: Any) -> Any:
        """`value` as the SQL's parameter: an id as it is, a time as the backend adapts it."""
        if name in self.times:
            return connections[queryset.db].ops.adapt_datetimefield_value(value)
        return value

    def _prepare(self, extra: dict[str, Any], nulls: tuple[str, ...]) -> _Compiled:
        first, second = self.stand_ins(0, nulls), self.stand_ins(1, nulls)
        extra = {**extra, **dict.fromkeys(nulls)}
        one = self.build(**first, **extra)
        sql_one, params_one = one.query.sql_with_params()
        sql_two, params_two = self.build(**second, **extra).query.sql_with_params()
        if sql_one != sql_two or len(params_one) != len(params_two):
            raise ValueError(f"{self.build.__qualname__}: its SQL depends on the ids' values")
        first = {name: self._sent(one, name, value) for name, value in first.items()}
        second = {name: self._sent(one, name, value) for name, value in second.items()}
        names = {value: name for name, value in first.items()}
        slots = []
        for position, (a, b) in enumerate(zip(params_one, params_two, strict=True)):
            if a == b and a not in names:
                continue  # a constant of the read
            name = names.get(a)
            if name is None or b != second[name]:
                raise ValueError(
                    f"{self.build.__qualname__}: parameter {position} is not one id's stand-in"
                )
            slots.append((position, name))
        return _Compiled(one, sql_one, slots)

    def compiled(self, **arguments: Any) -> _Compiled:
        bound = (*self.ids, *self.times)
        extra = {k: v for k, v in arguments.items() if k not in bound}
        # An id given as None is a shape of its own (`pk=None` is SQL's IS NULL, no parameter);
        # so is a time given as None (a read with no such bound writes no such condition).
        nulls = tuple(name for name in bound if arguments[name] is None)
        key = (nulls, self.shape(**arguments) if self.shape else ())
        found = self._compiled.get(key)
        if found is None:
            with self._lock:
                found = self._compiled.get(key) or self._prepare(extra, nulls)
                self._compiled[key] = found
        return found

    def _statement(self, compiled: _Compiled, arguments: dict[str, Any]) -> Statement:
        params = list(compiled.params)
        for position, name in compiled.slots:
            value = arguments[name]
            if name in self.times:
                if not isinstance(value, datetime) or value.tzinfo is None:
                    raise TypeError(f"{name} must be an aware datetime, not {value!r}")
                value = self._sent(compiled.queryset, name, value)
            elif type(value) is not int:
                raise TypeError(f"{name} must be an int, not {type(value).__name__}")
            params[position] = value
        return (compiled.sql, tuple(params))

    def statement(self, **arguments: Any) -> Statement:
        """The SQL and parameters a call with `arguments` sends (for `read_ahead`)."""
        return self._statement(self.compiled(**arguments), arguments)

    def _bound(self, **arguments: Any) -> QuerySet[M]:
        """A queryset that runs the compiled SQL with `arguments`' ids (or takes the rows read
        ahead for them). Private: it must only be evaluated, never filtered again (a clone
        would run this SQL, not its own)."""
        compiled = self.compiled(**arguments)
        bound = self._statement(compiled, arguments)
        queryset = compiled.queryset._chain()  # type: ignore[attr-defined]
        compiler = copy.copy(compiled.compiler)
        compiler.connection = connections[queryset.db]  # this thread's connection
        compiler.as_sql = lambda *args, **kwargs: bound
        rows = take_ahead(bound) if self.ahead else None
        if rows is not None:
            compiler.execute_sql = _fetched(compiler, rows)
        queryset.query.get_compiler = lambda *args, **kwargs: compiler
        return queryset

    def __call__(self, **arguments: Any) -> list[M]:
        return list(self._bound(**arguments))

    def filled(self, **arguments: Any) -> QuerySet[M]:
        """The queryset `build` writes for `arguments`, its rows already read by the compiled
        SQL: iterating it reads nothing more, and a queryset made from it (`.filter()`, `.get()`:
        a ModelChoiceField validating a choice) is compiled and run by the ORM as usual."""
        return with_rows(self.build(**arguments), self(**arguments))


def _fetched(compiler: Any, rows: list[tuple[Any, ...]]) -> Callable[..., Any]:
    """The compiler's `execute_sql` for rows already fetched: what it returns for MULTI (the
    only kind a model iteration asks for), the extra select columns trimmed as it trims them."""
    if compiler.has_extra_select:
        rows = [row[: compiler.col_count] for row in rows]

    def execute_sql(result_type: Any = MULTI, *args: Any, **kwargs: Any) -> Any:
        if result_type != MULTI:
            raise ValueError("a read-ahead read is only iterated")
        return [rows]

    return execute_sql


def rows_read(queryset: QuerySet[M]) -> list[M] | None:
    """The rows `queryset` holds if it was evaluated (or `with_rows` filled it), else None."""
    return queryset._result_cache


def with_rows(queryset: QuerySet[M], rows: list[M]) -> QuerySet[M]:
    """`queryset` holding `rows` as its results (read by the caller with the same query), as if
    it had been evaluated."""
    queryset._result_cache = rows
    queryset._prefetch_done = True  # type: ignore[attr-defined]
    return queryset
