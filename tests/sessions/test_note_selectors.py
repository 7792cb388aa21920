from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse

from sessions.selectors.notes import note_get_for_edit, note_get_for_view
from sessions.services.notes import note_autosave
from sessions.services.signing import note_sign
from tests.conftest import login
from tests.sessions.note_helpers import (
    complete_data,
    only_session_rules,  # noqa: F401 (fixture)
    start_note,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("only_session_rules")]


def _signed(author):
    note = start_note(author)
    note = note_autosave(note=note, user=author, base_version=1, data=complete_data(note))
    return note_sign(note=note, user=author)


def test_a_draft_is_visible_and_editable_by_its_author_only(counselor, teammate, supervisor):
    note = start_note(counselor)
    assert note_get_for_view(user=counselor, note_id=note.pk) == note
    assert note_get_for_edit(user=counselor, note_id=note.pk) == note
    for user in (teammate, supervisor):
        with pytest.raises(Http404):
            note_get_for_view(user=user, note_id=note.pk)
        with pytest.raises(Http404):
            note_get_for_edit(user=user, note_id=note.pk)


def test_awaiting_cosign_is_visible_to_the_author_and_supervisors(trainee, teammate, supervisor):
    note = _signed(trainee)
    assert note.status == "awaiting_cosign"
    assert note_get_for_view(user=trainee, note_id=note.pk) == note
    assert note_get_for_view(user=supervisor, note_id=note.pk) == note
    with pytest.raises(Http404):
        note_get_for_view(user=teammate, note_id=note.pk)
    with pytest.raises(PermissionDenied):
        note_get_for_edit(user=trainee, note_id=note.pk)


def test_a_signed_note_is_visible_to_every_role_in_the_clinic_only(
    counselor, teammate, clinic_admin, outsider
):
    note = _signed(counselor)
    for user in (counselor, teammate, clinic_admin):
        assert note_get_for_view(user=user, note_id=note.pk) == note
    with pytest.raises(Http404):
        note_get_for_view(user=outsider, note_id=note.pk)


def test_my_work_links_each_draft_to_its_note_page(client, counselor):
    note = start_note(counselor)
    login(client, counselor)
    html = client.get(reverse("crisis_sessions:my_work")).content.decode()
    assert f'href="{note.get_absolute_url()}"' in html


@pytest.mark.django_db(transaction=True)
def test_the_page_read_takes_the_written_join_order_and_nothing_after_it_does(counselor, teammate):
    """Outside a transaction (a page view) the 13-table read runs in its own, with
    join_collapse_limit 1 for it alone: sent after the SET LOCAL, with the quick notes' read,
    in one round trip (one implicit transaction); the next statement sees the server's setting
    again, and the visibility rules are those of the plain read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "postgresql":
        pytest.skip("a PostgreSQL planner setting")
    note = start_note(counselor)
    with connection.cursor() as cursor:
        cursor.execute("SHOW join_collapse_limit")
        server_setting = cursor.fetchone()[0]
    with CaptureQueriesContext(connection) as captured:
        assert note_get_for_view(user=counselor, note_id=note.pk) == note
    (sql,) = [q["sql"] for q in captured.captured_queries]
    set_local, note_read, quick_notes = sql.split(";\n")
    assert set_local == "SET LOCAL join_collapse_limit = 1"
    assert "_explorationstage" in note_read
    assert quick_notes.startswith('SELECT "crisis_sessions_quicknote"')
    assert not connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute("SHOW join_collapse_limit")
        assert cursor.fetchone()[0] == server_setting
    assert note_get_for_edit(user=counselor, note_id=note.pk) == note
    with pytest.raises(Http404):
        note_get_for_view(user=teammate, note_id=note.pk)
    with connection.cursor() as cursor:
        cursor.execute("SHOW join_collapse_limit")
        assert cursor.fetchone()[0] == server_setting


def _page_quick_notes_in_both_ways(user, note_id):
    """The quick notes the page read gives `user`, outside a transaction (sent with the note's
    read) and inside one (read on their own), or None when the note is not theirs to see."""
    from django.db import transaction

    try:
        outside = note_get_for_view(user=user, note_id=note_id)
    except Http404:
        outside = None
    with transaction.atomic():
        try:
            inside = note_get_for_view(user=user, note_id=note_id)
        except Http404:
            inside = None
    assert (outside is None) == (inside is None)
    if outside is None:
        return None
    texts = [[(q.pk, q.text) for q in n.quick_notes.all()] for n in (outside, inside)]
    assert texts[0] == texts[1]
    assert all(q.session is outside for q in outside.quick_notes.all())
    return texts[0]


@pytest.mark.django_db(transaction=True)
def test_the_page_reads_the_quick_notes_of_the_note_it_finds_as_the_orm_orders_them(
    counselor, teammate, supervisor, outsider
):
    """The page's quick notes (_page_quick_notes, sent with the note's read) are the note's in
    `QUICK_NOTE_ORDER`, the ORM's read of them, ties on the time broken by id; none are read
    for a note the reader may not see, by the SQL itself, not only by the page's 404."""
    from django.utils import timezone

    from crisisnotes.accounts.models import User
    from sessions.models import QuickNote
    from sessions.selectors.notes import _PAGE_QUICK_NOTES

    draft, other, empty = start_note(counselor), start_note(counselor), start_note(counselor)
    at = timezone.now()
    for text in ("b", "a", "c"):  # the same time: by id
        QuickNote.objects.create(session=draft, text=text)
    QuickNote.objects.create(session=draft, text="earlier")
    QuickNote.objects.filter(session=draft).update(created_at=at)  # created_at is auto_now_add
    QuickNote.objects.filter(text="earlier").update(created_at=at.replace(year=2020))
    QuickNote.objects.create(session=other, text="not this note's")
    expected = [
        (q.pk, q.text) for q in QuickNote.objects.filter(session=draft).order_by("created_at", "id")
    ]
    assert [text for _pk, text in expected] == ["earlier", "b", "a", "c"]
    assert _page_quick_notes_in_both_ways(counselor, draft.pk) == expected
    assert _page_quick_notes_in_both_ways(counselor, empty.pk) == []
    for reader in (teammate, supervisor, outsider):  # another's draft
        assert _page_quick_notes_in_both_ways(reader, draft.pk) is None
        reader = User.objects.get(pk=reader.pk)
        arguments = {
            "note_id": draft.pk,
            "user_id": reader.pk,
            "clinic_id": reader.clinic_id,
            "roles": (reader.is_counselor, reader.is_supervisor, reader.is_clinic_admin),
            "own": False,
        }
        assert _PAGE_QUICK_NOTES(**arguments) == []
        assert _PAGE_QUICK_NOTES(**{**arguments, "own": True}) == []
