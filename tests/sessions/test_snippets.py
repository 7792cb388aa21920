"""The clinic's snippets: only its clinic admin edits them (audited), counselors get them on the
note page, nobody sees another clinic's."""

from __future__ import annotations

import json

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client as DjangoClient

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import AuditEvent
from sessions.models import Snippet
from sessions.services.snippets import snippet_delete, snippet_save
from tests.conftest import login
from tests.sessions.note_helpers import start_note

pytestmark = pytest.mark.django_db


def test_admin_adds_changes_and_deletes_a_snippet_each_audited(clinic_admin: User) -> None:
    snippet = snippet_save(actor=clinic_admin, shortcut="conf", text="Reviewed limits.")
    snippet = snippet_save(
        actor=clinic_admin, snippet=snippet, shortcut="conf", text="Reviewed the limits."
    )
    assert Snippet.objects.get().text == "Reviewed the limits."
    snippet_delete(actor=clinic_admin, snippet=snippet)
    assert not Snippet.objects.exists()
    actions = list(
        AuditEvent.objects.filter(object_type__icontains="snippet").values_list("action", flat=True)
    )
    assert sorted(actions) == ["create", "delete", "update"]


def test_counselor_and_other_clinics_admin_cannot_change_snippets(
    counselor: User, clinic_admin: User, outsider: User
) -> None:
    with pytest.raises(PermissionDenied):
        snippet_save(actor=counselor, shortcut="x", text="No.")
    snippet = snippet_save(actor=clinic_admin, shortcut="numbers", text="Gave 988.")
    with pytest.raises(PermissionDenied):
        snippet_save(actor=outsider, snippet=snippet, shortcut="numbers", text="Changed.")
    with pytest.raises(PermissionDenied):
        snippet_delete(actor=outsider, snippet=snippet)


def test_admin_page_refuses_a_bad_or_taken_shortcut_and_saves_nothing(
    admin_client_: DjangoClient, clinic_admin: User
) -> None:
    snippet_save(actor=clinic_admin, shortcut="conf", text="Reviewed limits.")
    response = admin_client_.post("/snippets/", {"shortcut": "conf", "text": "Again"})
    assert response.status_code == 400
    assert "already a snippet" in response.content.decode()
    response = admin_client_.post("/snippets/", {"shortcut": "two words", "text": "x"})
    assert response.status_code == 400
    assert Snippet.objects.count() == 1
    response = admin_client_.post("/snippets/", {"shortcut": "Safe", "text": "Safety plan."})
    assert response.status_code == 302
    assert Snippet.objects.filter(shortcut="safe").exists()


def test_counselor_gets_403_and_another_clinics_admin_a_404(
    counselor_client: DjangoClient, clinic_admin: User, outsider: User, client: DjangoClient
) -> None:
    assert counselor_client.get("/snippets/").status_code == 403
    ours = snippet_save(actor=clinic_admin, shortcut="conf", text="Reviewed limits.")
    login(client, outsider)
    assert client.post(f"/snippets/{ours.pk}/delete/").status_code == 404
    assert client.get(f"/snippets/?edit={ours.pk}").status_code == 404
    assert Snippet.objects.filter(pk=ours.pk).exists()


def test_note_page_carries_only_the_clinics_snippets(
    counselor_client: DjangoClient, counselor: User, clinic_admin: User, outsider: User
) -> None:
    snippet_save(actor=clinic_admin, shortcut="conf", text="Reviewed the limits.")
    snippet_save(actor=outsider, shortcut="other", text="Another clinic's phrase.")
    note = start_note(counselor)
    html = counselor_client.get(f"/notes/{note.pk}/").content.decode()
    start = html.index('<script id="snippets-data" type="application/json">') + len(
        '<script id="snippets-data" type="application/json">'
    )
    data = json.loads(html[start : html.index("</script>", start)])
    assert data == [{"shortcut": "conf", "text": "Reviewed the limits."}]
