"""crisisnotes.prepared: a read compiled once gives what its queryset gives, for any ids."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.models import Q, QuerySet
from django.test.utils import CaptureQueriesContext

from crisisnotes.accounts.models import User
from crisisnotes.prepared import PreparedRead
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
