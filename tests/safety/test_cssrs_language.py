"""C-SSRS items in the client's language only from a validated translation; answers stay codes."""

from __future__ import annotations

import html as html_lib

from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import translation

from crisisnotes.accounts.models import User
from safety.cssrs import ITEMS, VALIDATED_TRANSLATIONS, CssrsVersion, cssrs_items, cssrs_wording
from tests.factories import ClientFactory
from tests.safety.helpers import HIGH, reload, save, screen, start_note

NOTICE_ES = "No validated translation in Spanish; items shown in English."


def test_spanish_recent_version_is_the_validated_translation() -> None:
    wording = cssrs_wording(CssrsVersion.RECENT, "es")
    assert wording.language == "es" and not wording.fallback
    assert set(wording.items) == {item.key for item in ITEMS}
    assert wording.items["q1"] == "¿Ha deseado estar muerto(a) o poder dormirse y no despertar?"
    assert wording.items["q6b"] == "¿Fue esto en los últimos 3 meses?"
    assert wording.item6_examples.startswith("Ejemplos:")


def test_since_last_contact_has_no_validated_spanish_so_stays_english() -> None:
    assert ("es", CssrsVersion.SINCE_LAST_CONTACT) not in VALIDATED_TRANSLATIONS
    wording = cssrs_wording(CssrsVersion.SINCE_LAST_CONTACT, "es")
    assert wording.fallback and wording.language == "en" and wording.requested_language == "es"
    english = {i.key: i.text for i in cssrs_items(CssrsVersion.SINCE_LAST_CONTACT)}
    assert wording.items == english
    assert "q6b" not in wording.items


def test_english_is_the_instrument_itself() -> None:
    for version in CssrsVersion:
        wording = cssrs_wording(version, "en")
        assert not wording.fallback
        assert wording.items == {i.key: i.text for i in cssrs_items(version)}


def test_note_page_reads_items_in_the_clients_language_with_a_notice_where_unvalidated(
    counselor_client: DjangoClient, counselor: User
) -> None:
    client = ClientFactory(clinic=counselor.clinic, created_by=counselor, language="es")
    note = start_note(counselor, client)
    page = html_lib.unescape(
        counselor_client.get(
            reverse("crisis_sessions:note_detail", args=[note.pk])
        ).content.decode()
    )
    assert "¿Ha tenido realmente la idea de suicidarse?" in page
    assert 'data-text-since_last_contact="Since last contact, have you actually had' in page
    assert NOTICE_ES in page  # on the since-last-contact version's time frame
    assert "Ejemplos: Colectar píldoras" in page


def test_english_client_has_no_language_notice(
    counselor_client: DjangoClient, counselor: User
) -> None:
    note = start_note(counselor)
    page = counselor_client.get(reverse("crisis_sessions:note_detail", args=[note.pk]))
    assert "No validated translation" not in page.content.decode()


def test_answers_are_stored_as_codes_whatever_the_language(counselor: User) -> None:
    client = ClientFactory(clinic=counselor.clinic, created_by=counselor, language="es")
    note = start_note(counselor, client)
    with translation.override("es"):
        save(note, **screen(HIGH))
    stored = reload(note).safety_screen
    assert (stored.q1, stored.q2, stored.q3, stored.q4, stored.q5, stored.q6) == (
        True,
        True,
        True,
        True,
        False,
        False,
    )
    assert stored.risk == "high"
