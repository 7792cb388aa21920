"""The session pages in Spanish: the note being written, the signed note, the review page and the
follow-up list render the Spanish catalogue (locale/es) when Spanish is the active language, and
stay English by default. The catalogue is compiled here from the .po files in the repository, so
a missing or broken translation of these labels fails the test."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from sessions.fhir import note_fhir_resources
from sessions.i18n import recipient_language
from sessions.models.notes import Modality
from sessions.services.notes import note_autosave
from sessions.services.signing import note_sign
from tests.conftest import login
from tests.factories import NoteFactory
from tests.sessions.note_helpers import (
    complete_data,
    only_session_rules,  # noqa: F401 (fixture)
    start_note,
)

pytestmark = pytest.mark.django_db

LOCALE = Path(settings.BASE_DIR) / "locale"


@pytest.fixture
def spanish_catalogue(tmp_path, settings):
    """The repository's Spanish catalogues, compiled (msgfmt --check, as compilemessages does)."""
    target = tmp_path / "locale" / "es" / "LC_MESSAGES"
    target.mkdir(parents=True)
    for domain in ("django", "djangojs"):
        po = LOCALE / "es" / "LC_MESSAGES" / f"{domain}.po"
        subprocess.run(
            [shutil.which("msgfmt") or "msgfmt", "--check", "-o", target / f"{domain}.mo", po],
            check=True,
        )
    settings.LOCALE_PATHS = [tmp_path / "locale"]  # resets Django's translation caches
    yield
    translation.trans_real._translations = {}


def _get(client, url, language):
    # Without LocaleMiddleware the request keeps the active language; with it, Accept-Language
    # (for a user with no language of their own) chooses the same.
    with translation.override(language):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.usefixtures("spanish_catalogue")
def test_the_note_being_written_reads_in_spanish(client, counselor):
    note = start_note(counselor, modality=Modality.PHONE)
    login(client, counselor)

    page = _get(client, note.get_absolute_url(), "es")

    for text in (
        "Sesión con",  # the heading
        "Guardar borrador",
        "Terminar sesión y firmar",
        "Exploración y desescalada",  # a stage title (sessions.sections)
        "Resolución de problemas",
        "Tipo de contacto",
        "Sesión completa",  # a contact type's label (model choices)
        "Teléfono",  # the modality radio
        "Notas rápidas",
        "Traspaso de turno",
        "¿Terminar la sesión y firmar esta nota?",  # the confirm dialog's question
    ):
        assert text in page, text
    assert "Save draft" not in page
    assert "End session and sign" not in page


@pytest.mark.usefixtures("spanish_catalogue")
def test_english_stays_the_default(client, counselor):
    note = start_note(counselor)
    login(client, counselor)

    page = _get(client, note.get_absolute_url(), "en")

    assert "Save draft" in page and "End session and sign" in page
    assert "Guardar borrador" not in page


@pytest.mark.usefixtures("spanish_catalogue", "only_session_rules")
def test_the_signed_note_reads_in_spanish(client, counselor):
    note = start_note(counselor)
    note = note_autosave(note=note, user=counselor, base_version=1, data=complete_data(note))
    note = note_sign(note=note, user=counselor)
    login(client, counselor)

    page = _get(client, note.get_absolute_url(), "es")

    for text in ("Firma", "Firmada por", "Hash del contenido (SHA-256):", "Anexos", "Firmada"):
        assert text in page, text
    assert "Signed by" not in page


@pytest.mark.usefixtures("spanish_catalogue")
def test_the_review_page_and_queue_read_in_spanish(client, supervisor, trainee):
    note = NoteFactory(author=trainee, awaiting_cosign=True)
    login(client, supervisor)

    page = _get(client, reverse("crisis_sessions:review_note", args=[note.pk]), "es")
    for text in (
        "Su revisión",
        "Firmar conjuntamente y bloquear",
        "Devolver con comentarios",
        "Cola de revisión",
    ):
        assert text in page, text
    assert "Co-sign and lock" not in page

    queue = _get(client, reverse("crisis_sessions:review_queue"), "es")
    assert "Notas de sus equipos pendientes de su firma conjunta" in queue
    assert "Motivo de la firma conjunta" in queue


@pytest.mark.usefixtures("spanish_catalogue")
def test_the_javascript_catalogue_serves_the_scripts_spanish(client, counselor):
    login(client, counselor)

    with translation.override("es"):
        response = client.get(reverse("javascript-catalog"), HTTP_ACCEPT_LANGUAGE="es")

    assert response.status_code == 200
    script = response.content.decode()
    assert "Guardando\\u2026" in script or "Guardando…" in script  # note.js's "Saving…"
    assert "no se guard" in script  # "not saved — …"


def test_the_javascript_catalogue_needs_no_sign_in(client):
    # The login page loads it too: an anonymous request gets the script, not a redirect.
    response = client.get(reverse("javascript-catalog"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")


@pytest.mark.usefixtures("spanish_catalogue", "only_session_rules")
def test_fhir_output_stays_english_whatever_the_interface_language(counselor):
    note = start_note(counselor, modality=Modality.PHONE)
    note = note_autosave(note=note, user=counselor, base_version=1, data=complete_data(note))
    note = note_sign(note=note, user=counselor)

    with translation.override("es"):
        assert str(Modality.PHONE.label) == "Teléfono"  # the catalogue is active
        spanish = json.dumps(note_fhir_resources(note), ensure_ascii=False)
    english = json.dumps(note_fhir_resources(note), ensure_ascii=False)

    assert spanish == english
    assert '"display": "Phone"' in spanish or '"text": "Phone"' in spanish
    assert "Teléfono" not in spanish


@pytest.mark.usefixtures("spanish_catalogue")
def test_a_stored_text_is_written_in_its_readers_language():
    """Notifications are stored once for one reader: recipient_language picks the reader's
    language whatever the request's, and the site default for a reader without one."""
    message = "%(author)s signed a note that needs your co-signature."
    with translation.override("en"):
        with recipient_language(SimpleNamespace(language="es")):
            spanish = translation.gettext(message)
        with recipient_language(SimpleNamespace(language="")):
            default = translation.gettext(message)
    assert spanish == "%(author)s firmó una nota que necesita su firma conjunta."
    assert default == message
