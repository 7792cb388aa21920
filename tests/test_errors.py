"""One base for every refusal a service raises (crisisnotes/errors.py), and the decorator that
turns it into a message on the page the action came from."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore

from crisisnotes.accounts.clinic_services import ClinicSettingsError
from crisisnotes.accounts.services import AccountError
from crisisnotes.errors import DomainError, refusal_as_message
from safety.exceptions import SafetyError
from sessions.exceptions import NoteError
from sessions.fhir import FhirExportError
from sessions.services.followups import FollowUpError
from sessions.services.resources import ResourceError
from sessions.services.review import ReviewError
from sessions.services.supervision import ConsultError


@pytest.mark.parametrize(
    "error",
    [
        AccountError,
        ClinicSettingsError,
        ConsultError,
        FhirExportError,
        FollowUpError,
        NoteError,
        ResourceError,
        ReviewError,
        SafetyError,
    ],
)
def test_every_service_refusal_is_a_domain_error(error):
    assert issubclass(error, DomainError)


def _request(rf):
    request = rf.post("/somewhere/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def test_a_refusal_becomes_an_error_message_and_a_redirect_back(rf):
    @refusal_as_message(back=lambda request, *, item_id: f"/items/{item_id}/")
    def view(request, item_id):
        raise ReviewError("This note was returned meanwhile.")

    request = _request(rf)
    response = view(request, item_id=7)
    assert response.status_code == 302
    assert response["Location"] == "/items/7/"
    assert [str(m) for m in get_messages(request)] == ["This note was returned meanwhile."]


def test_other_errors_are_not_swallowed(rf):
    @refusal_as_message(back=lambda request: "/")
    def view(request):
        raise ValueError("a bug")

    with pytest.raises(ValueError):
        view(_request(rf))
