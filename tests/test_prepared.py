"""crisisnotes.prepared: a read compiled once gives what its queryset gives, for any ids."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.models import Q, QuerySet
from django.test.utils import CaptureQueriesContext

from crisisnotes.accounts.models import User
from crisisnotes.prepared import PreparedRead, read_ahead, run_together
from sessions.models import CrisisSession, QuickNote
from tests.sessions.note_helpers import start_note

pytestmark = pytest.mark.django_db


def _colleagues(*, clinic_id: int, user_id: int) -> QuerySet[User]:
    return (
        User.objects.filter(clinic_id=clinic_id, is_active=True)
        .exclude(pk=user_id)
        .order_by("username")
    )


def test_a_prepared_read_gives_the_querysets_rows_for_each_call(
    counselor, teammate, supervisor, outsider
):
    read: PreparedRead[User] = PreparedRead(_colleagues, ids=("clinic_id", "user_id"))
    for user in (counselor, teammate, supervisor, outsider):
        expected = list(_colleagues(clinic_id=user.clinic_id, user_id=user.pk))
        assert read(clinic_id=user.clinic_id, user_id=user.pk) == expected
    assert read(clinic_id=counselor.clinic_id, user_id=counselor.pk)  # not all empty


def test_it_runs_the_sql_the_orm_would_with_the_calls_ids(counselor):
    read: PreparedRead[User] = PreparedRead(_colleagues, ids=("clinic_id", "user_id"))
    read(clinic_id=counselor.clinic_id, user_id=counselor.pk)  # compiled here
    queryset = _colleagues(clinic_id=counselor.clinic_id, user_id=counselor.pk)
    with CaptureQueriesContext(connection) as orm:
        list(queryset)
    with CaptureQueriesContext(connection) as prepared:
        read(clinic_id=counselor.clinic_id, user_id=counselor.pk)
    assert [q["sql"] for q in prepared] == [q["sql"] for q in orm]


def test_select_related_and_prefetch_related_objects_come_with_the_rows(counselor):
    note = start_note(counselor)
    QuickNote.objects.create(session=note, text="first")

    def build(*, note_id: int) -> QuerySet[CrisisSession]:
        return (
            CrisisSession.objects.filter(pk=note_id)
            .select_related("client", "author", "exploration")
            .prefetch_related("quick_notes")
        )

    read: PreparedRead[CrisisSession] = PreparedRead(build, ids=("note_id",))
    (loaded,) = read(note_id=note.pk)
    with CaptureQueriesContext(connection) as later:
        assert loaded.client.alias == note.client.alias
        assert loaded.author == counselor
        assert loaded.exploration.pk == note.pk
        assert [q.text for q in loaded.quick_notes.all()] == ["first"]
    assert len(later) == 0
    assert read(note_id=note.pk + 10_000) == []


def test_a_read_whose_sql_depends_on_an_ids_value_is_refused(counselor):
    def limited(*, user_id: int) -> object:
        return User.objects.filter(pk__gte=user_id)[: abs(user_id) % 1000]  # LIMIT from the id

    def shifted(*, user_id: int) -> object:
        return User.objects.filter(pk=user_id + 1)

    for build in (limited, shifted):
        with pytest.raises(ValueError):
            PreparedRead(build, ids=("user_id",))(user_id=counselor.pk)


def test_ids_must_be_ints_and_none_is_a_shape_of_its_own(counselor):
    def build(*, user_id: int | None) -> QuerySet[User]:
        return User.objects.filter(Q(pk=user_id))  # None: IS NULL

    read: PreparedRead[User] = PreparedRead(build, ids=("user_id",))
    assert read(user_id=counselor.pk) == [counselor]
    assert read(user_id=None) == []
    assert read(user_id=counselor.pk) == [counselor]
    with pytest.raises(TypeError):
        read(user_id=str(counselor.pk))


def test_a_time_is_bound_like_an_id_and_none_is_a_shape_of_its_own(counselor, teammate):
    """`times`: an aware datetime is put into the compiled SQL as the ORM would put it."""
    User.objects.filter(pk=teammate.pk).update(
        date_joined=counselor.date_joined + timedelta(hours=1)
    )

    def joined(*, clinic_id: int, before: datetime | None) -> QuerySet[User]:
        users = User.objects.filter(clinic_id=clinic_id)
        if before is not None:
            users = users.filter(date_joined__lte=before)
        return users.order_by("pk")

    read: PreparedRead[User] = PreparedRead(joined, ids=("clinic_id",), times=("before",))
    clinic_id = counselor.clinic_id
    moments = [counselor.date_joined + timedelta(minutes=m) for m in (-1, 0, 30, 60, 90)]
    for moment in [*moments, None, *moments]:
        expected = list(joined(clinic_id=clinic_id, before=moment))
        assert read(clinic_id=clinic_id, before=moment) == expected
        with CaptureQueriesContext(connection) as orm:
            list(joined(clinic_id=clinic_id, before=moment))
        with CaptureQueriesContext(connection) as prepared:
            read(clinic_id=clinic_id, before=moment)
        assert [q["sql"] for q in prepared] == [q["sql"] for q in orm]
    assert counselor not in read(clinic_id=clinic_id, before=moments[0])
    assert teammate not in read(clinic_id=clinic_id, before=moments[2])
    assert teammate in read(clinic_id=clinic_id, before=moments[3])
    with pytest.raises(TypeError):
        read(clinic_id=clinic_id, before=moments[1].replace(tzinfo=None))  # naive
    with pytest.raises(TypeError):
        read(clinic_id=clinic_id, before=moments[1].date())


def test_a_filled_queryset_holds_the_rows_and_filters_again_through_the_orm(counselor, teammate):
    read: PreparedRead[User] = PreparedRead(_colleagues, ids=("clinic_id", "user_id"))
    filled = read.filled(clinic_id=counselor.clinic_id, user_id=counselor.pk)
    with CaptureQueriesContext(connection) as reading:
        rows = list(filled)
    assert len(reading) == 0
    assert teammate in rows
    # What a ModelChoiceField does when it validates a choice: a query of its own.
    assert filled.get(pk=teammate.pk) == teammate
    with pytest.raises(User.DoesNotExist):
        filled.get(pk=counselor.pk)


def _quick_notes(*, note_id: int) -> QuerySet[QuickNote]:
    return QuickNote.objects.filter(session_id=note_id).order_by("created_at", "id")


def _notes_with_relations(*, note_id: int) -> QuerySet[CrisisSession]:
    return (
        CrisisSession.objects.filter(pk=note_id)
        .select_related("client", "author", "exploration")
        .prefetch_related("quick_notes")
    )


def test_reads_read_ahead_take_their_rows_from_one_round_trip(counselor, teammate):
    """Each read of the block gives the objects its own query gives (a prefetch still runs after
    its rows), and the statements went out together: one query for all."""
    note, other = start_note(counselor), start_note(teammate)
    QuickNote.objects.create(session=note, text="first")
    QuickNote.objects.create(session=note, text="second")
    colleagues: PreparedRead[User] = PreparedRead(_colleagues, ids=("clinic_id", "user_id"))
    quick: PreparedRead[QuickNote] = PreparedRead(_quick_notes, ids=("note_id",))
    notes: PreparedRead[CrisisSession] = PreparedRead(_notes_with_relations, ids=("note_id",))
    calls: list[tuple[PreparedRead[Any], dict[str, int]]] = [
        (colleagues, {"clinic_id": counselor.clinic_id, "user_id": counselor.pk}),
        (quick, {"note_id": note.pk}),
        (quick, {"note_id": other.pk}),  # none
        (notes, {"note_id": note.pk}),
    ]
    expected = [read(**arguments) for read, arguments in calls]
    assert expected[0] and len(expected[1]) == 2 and expected[2] == []
    statements = [read.statement(**arguments) for read, arguments in calls]
    with (
        CaptureQueriesContext(connection) as ahead,
        read_ahead(statements),
        CaptureQueriesContext(connection) as inside,
    ):
        got = [read(**arguments) for read, arguments in calls[:3]]
        (loaded,) = notes(note_id=note.pk)
        assert [q.text for q in loaded.quick_notes.all()] == ["first", "second"]
    assert got == expected[:3]
    assert [[o.pk, o.text] for o in got[1]] == [[o.pk, o.text] for o in expected[1]]
    assert loaded == expected[3][0] and loaded.client.alias == note.client.alias
    assert loaded.exploration.pk == note.pk
    # The quick notes' prefetch of the note's read is the one query the block ran itself.
    assert len(inside) == 1 and "crisis_sessions_quicknote" in inside[0]["sql"]
    assert len(ahead) == 2


def test_a_read_ahead_result_serves_one_read_and_unforeseen_reads_run_as_before(
    counselor, teammate
):
    read: PreparedRead[User] = PreparedRead(_colleagues, ids=("clinic_id", "user_id"))
    mine = {"clinic_id": counselor.clinic_id, "user_id": counselor.pk}
    theirs = {"clinic_id": teammate.clinic_id, "user_id": teammate.pk}
    with read_ahead([read.statement(**mine)]), CaptureQueriesContext(connection) as inside:
        first = read(**mine)
        assert len(inside) == 0
        teammate.full_name = "Renamed meanwhile"
        teammate.save()
        again = read(**mine)  # read ahead once only: this one reads the row as it is now
        assert len(inside) == 2
        unforeseen = read(**theirs)  # not foreseen: its own query
        assert len(inside) == 3
    assert unforeseen == list(_colleagues(**theirs))
    assert teammate in first and teammate in again
    assert [u.full_name for u in again if u.pk == teammate.pk] == ["Renamed meanwhile"]
    with CaptureQueriesContext(connection) as after:
        read(**mine)  # outside the block: a query again
    assert len(after) == 1


@pytest.mark.django_db(transaction=True)  # outside a transaction, as the note page's read
def test_run_together_gives_each_statements_rows_and_a_set_local_holds_for_the_rest():
    with CaptureQueriesContext(connection) as together:
        results = run_together(
            [
                ("SET LOCAL join_collapse_limit = 1", ()),
                ("SELECT current_setting('join_collapse_limit'), %s::text", ("100%",)),
                ("SELECT n FROM generate_series(1, %s) n WHERE n > %s", (3, 1)),
                ("SELECT 1 WHERE false", ()),
            ]
        )
    assert results == [[], [("1", "100%")], [(2,), (3,)], []]
    assert len(together) == 1
    # SET LOCAL ended with the statements' implicit transaction.
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('join_collapse_limit')")
        assert cursor.fetchone() != ("1",)
