"""One confirm step before an irreversible action (sign, co-sign and lock, deactivate a user).

With JavaScript, static/js/confirm.js asks in a native <dialog> whose confirm button has the
focus (Enter confirms, Escape cancels) and posts `confirmed=1` with the form. Without it, the
button's own `confirm=ask` arrives alone and the view answers with a page that asks the same
question and posts the form again, confirmed. A POST without `confirm=ask` (no button of ours:
tests, scripts) is taken as deliberate; the confirm step guards against a slip of the hand, not
against the user."""

from __future__ import annotations

from collections.abc import Mapping

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

ASK = "ask"


def confirmation_pending(request: HttpRequest) -> bool:
    """Whether this POST came from a confirm button that was not confirmed yet (the no-JS path)."""
    return request.POST.get("confirm") == ASK and request.POST.get("confirmed") != "1"


def confirmation_page(
    request: HttpRequest,
    *,
    title: str,
    message: str,
    button: str,
    cancel_url: str,
    fields: Mapping[str, str] | None = None,
) -> HttpResponse:
    """The server-side twin of the dialog: the question, and a form that posts `fields` again to
    the same URL with `confirmed=1`."""
    return render(
        request,
        "confirm.html",
        {
            "title": title,
            "message": message,
            "button": button,
            "cancel_url": cancel_url,
            "fields": dict(fields or {}),
        },
    )
