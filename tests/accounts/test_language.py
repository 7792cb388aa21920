"""The interface language: each user's own choice, else the browser's (Accept-Language)."""

from __future__ import annotations

from django.conf import settings
from django.test import Client as DjangoClient
from django.urls import reverse

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import Action, AuditEvent
from tests.conftest import login


def test_locale_middleware_sits_between_sessions_and_common() -> None:
    order = settings.MIDDLEWARE
    locale = order.index("django.middleware.locale.LocaleMiddleware")
    assert order.index("django.contrib.sessions.middleware.SessionMiddleware") < locale
    assert locale < order.index("django.middleware.common.CommonMiddleware")
    user_language = order.index("crisisnotes.middleware.UserLanguageMiddleware")
    assert order.index("django.contrib.auth.middleware.AuthenticationMiddleware") < user_language
    assert [code for code, _name in settings.LANGUAGES] == ["en", "es"]


def test_anonymous_pages_follow_the_browser(client: DjangoClient) -> None:
    spanish = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="es-MX,es;q=0.9")
    assert spanish["Content-Language"] == "es"
    assert "Iniciar sesión en crisisnotes" in spanish.content.decode()
    english = client.get(reverse("login"), HTTP_ACCEPT_LANGUAGE="en-US")
    assert "Log in to crisisnotes" in english.content.decode()


def test_users_choice_wins_over_the_browser(client: DjangoClient, counselor: User) -> None:
    counselor.language = "es"
    counselor.save()
    login(client, counselor)
    page = client.get(reverse("language"), HTTP_ACCEPT_LANGUAGE="en-US")
    assert page["Content-Language"] == "es"
    html = page.content.decode()
    assert '<html lang="es">' in html and "Cerrar sesión" in html and "Log out" not in html


def test_without_a_choice_the_browser_decides(client: DjangoClient, counselor: User) -> None:
    assert counselor.language == ""
    login(client, counselor)
    html = client.get(reverse("language"), HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Cerrar sesión" in html


def test_user_changes_their_language_and_it_is_audited(
    client: DjangoClient, counselor: User
) -> None:
    login(client, counselor)
    response = client.post(reverse("language"), {"language": "es"}, follow=True)
    counselor.refresh_from_db()
    assert counselor.language == "es"
    html = response.content.decode()
    assert "Idioma guardado." in html and "Idioma de la interfaz" in html
    assert AuditEvent.objects.filter(
        action=Action.UPDATE, actor=counselor, summary="interface language browser → es"
    ).exists()
    # Back to the browser's language.
    client.post(reverse("language"), {"language": ""})
    counselor.refresh_from_db()
    assert counselor.language == ""


def test_unknown_language_is_refused(client: DjangoClient, counselor: User) -> None:
    login(client, counselor)
    response = client.post(reverse("language"), {"language": "fr"})
    assert response.status_code == 200
    counselor.refresh_from_db()
    assert counselor.language == ""


def test_security_email_is_in_the_recipients_language(counselor: User) -> None:
    from crisisnotes.accounts.mfa import security_notice
    from crisisnotes.notifications.models import OutgoingEmail

    counselor.language = "es"
    counselor.email = "robin@example.invalid"
    counselor.save()
    security_notice(user=counselor, what="Your password was changed")
    email = OutgoingEmail.objects.get(recipient=counselor)
    assert email.subject == "crisisnotes: Se cambió su contraseña"
    assert email.body.startswith("Hola, ")


def test_date_inputs_keep_the_iso_format_in_spanish(client: DjangoClient, counselor: User) -> None:
    """<input type="date"> only takes YYYY-MM-DD: Spanish's 30/11/2026 would blank the field."""
    from datetime import date

    from tests.factories import ClientFactory

    counselor.language = "es"
    counselor.save()
    login(client, counselor)
    record = ClientFactory(
        clinic=counselor.clinic, created_by=counselor, date_of_birth=date(1990, 4, 2)
    )
    html = client.get(reverse("crisis_sessions:client_edit", args=[record.pk])).content.decode()
    assert 'value="1990-04-02"' in html and "02/04/1990" not in html
