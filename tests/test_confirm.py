"""The confirm step before an irreversible action, without JavaScript: the button's confirm=ask
arrives alone, the server asks on a page of its own, and only the confirmed post acts. (With
JavaScript the dialog asks: tests/e2e/test_live_supervision_journey.py.)"""

from __future__ import annotations

import pytest
from django.urls import reverse

from sessions.models.notes import NoteStatus
from tests.conftest import login
from tests.factories import NoteFactory
from tests.sessions.note_helpers import (
    complete_data,
    only_session_rules,  # noqa: F401 (fixture)
    reload,
    start_note,
)

pytestmark = pytest.mark.django_db


def _asks(response, button: str) -> str:
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-testid="confirm-page"' in html
    assert 'name="confirmed" value="1"' in html
    assert f"autofocus>{button}</button>" in html
    return html


@pytest.mark.usefixtures("only_session_rules")
def test_sign_without_javascript_saves_what_was_typed_then_asks(counselor_client, counselor):
    note = start_note(counselor)
    url = reverse("crisis_sessions:note_sign", args=[note.pk])
    data = complete_data(note, **{"exploration-precipitating_event": "Typed before signing"})
    html = _asks(counselor_client.post(url, {**data, "confirm": "ask"}), "Sign note")
    note = reload(note)
    assert note.status == NoteStatus.DRAFT
    assert note.exploration.precipitating_event == "Typed before signing"
    # The confirm page posts no note fields (they are saved): only the confirmation.
    assert "precipitating_event" not in html
    response = counselor_client.post(url, {"confirm": "ask", "confirmed": "1"})
    assert response.status_code == 302
    assert reload(note).status == NoteStatus.SIGNED


@pytest.mark.usefixtures("only_session_rules")
def test_end_and_sign_without_javascript_saves_what_was_typed_then_asks(
    counselor_client, counselor
):
    note = start_note(counselor)
    url = reverse("crisis_sessions:note_end_sign", args=[note.pk])
    data = complete_data(note, **{"exploration-precipitating_event": "Typed before ending"})
    html = _asks(counselor_client.post(url, {**data, "confirm": "ask"}), "End session and sign")
    assert "End the session and sign this note?" in html
    note = reload(note)
    assert note.status == NoteStatus.DRAFT
    assert note.exploration.precipitating_event == "Typed before ending"
    assert "precipitating_event" not in html
    response = counselor_client.post(url, {"confirm": "ask", "confirmed": "1"})
    assert response.status_code == 302
    note = reload(note)
    assert note.status == NoteStatus.SIGNED and note.ended_at is not None


def test_cosign_without_javascript_asks_first(client, supervisor, trainee):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    login(client, supervisor)
    url = reverse("crisis_sessions:review_cosign", args=[note.pk])
    _asks(client.post(url, {"confirm": "ask"}), "Co-sign and lock")
    assert reload(note).status == NoteStatus.AWAITING_COSIGN
    assert client.post(url, {"confirm": "ask", "confirmed": "1"}).status_code == 302
    assert reload(note).status == NoteStatus.SIGNED


def test_deactivate_without_javascript_asks_and_reposts_the_choice(admin_client_, counselor):
    url = reverse("accounts:user_active", args=[counselor.pk])
    html = _asks(admin_client_.post(url, {"active": "0", "confirm": "ask"}), "Deactivate")
    assert 'name="active" value="0"' in html and "Deactivate Robin Testcase?" in html
    counselor.refresh_from_db()
    assert counselor.is_active
    admin_client_.post(url, {"active": "0", "confirm": "ask", "confirmed": "1"})
    counselor.refresh_from_db()
    assert not counselor.is_active


def test_reactivating_needs_no_confirmation(admin_client_, counselor):
    counselor.is_active = False
    counselor.save(update_fields=["is_active"])
    url = reverse("accounts:user_active", args=[counselor.pk])
    assert admin_client_.post(url, {"active": "1", "confirm": "ask"}).status_code == 302
    counselor.refresh_from_db()
    assert counselor.is_active


def test_the_buttons_carry_the_dialog_question(client, counselor_client, counselor, supervisor):
    note = start_note(counselor)
    html = counselor_client.get(note.get_absolute_url()).content.decode()
    assert 'data-confirm="Sign this note?"' in html and 'name="confirm" value="ask"' in html
    assert "js/confirm.js" in html
