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
    join_collapse_limit 1 for it alone: the next statement sees the server's setting again,
    and the visibility rules are those of the plain read."""
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
    sql = [q["sql"] for q in captured.captured_queries]
    assert sql[:2] == ["BEGIN", "SET LOCAL join_collapse_limit = 1"], sql
    assert "_explorationstage" in sql[2]
    assert sql[-1] == "COMMIT"
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
