"""Automatic logoff after inactivity (HIPAA §164.312(a)(2)(iii)), kept on the server.

The session remembers when its user was last active and their clinic's idle timeout (taken at
sign-in, so no request pays a query for it). A request after the timeout is signed out before
any view runs: a page request goes to the login page with a message; an autosave or other
script request gets 401 JSON, so the note page keeps the typed text and says what happened. The
absolute limit is SESSION_COOKIE_AGE as before; the cookie itself ends with the browser.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext, ngettext

from crisisnotes.http import HtmxRequest, wants_json
from crisisnotes.polling import is_poll

LAST_ACTIVITY = "idle:last_activity"
TIMEOUT = "idle:timeout_seconds"
# Activity is written to the session at most this often: a burst of requests costs one write.
WRITE_EVERY_SECONDS = 15


def idle_timeout_seconds(user: Any) -> int:
    clinic = getattr(user, "clinic", None)
    minutes = clinic.idle_timeout_minutes if clinic is not None else settings.IDLE_TIMEOUT_MINUTES
    return int(minutes) * 60


def idle_session_start(request: HttpRequest, user: Any) -> None:
    """At sign-in: the clock starts, with the clinic's timeout."""
    request.session[TIMEOUT] = idle_timeout_seconds(user)
    request.session[LAST_ACTIVITY] = time.time()


def idle_remaining(request: HttpRequest) -> float:
    """Seconds left before this session is signed out for inactivity."""
    timeout = request.session.get(TIMEOUT) or settings.IDLE_TIMEOUT_MINUTES * 60
    last = request.session.get(LAST_ACTIVITY)
    if last is None:
        return float(timeout)
    return float(timeout) - (time.time() - float(last))


def idle_times(request: HttpRequest) -> dict[str, int]:
    """What the page's timer needs: whole seconds left (never below 0) and the timeout."""
    return {
        "remaining": max(int(idle_remaining(request)), 0),
        "timeout": int(request.session.get(TIMEOUT) or 0),
    }


def idle_context(request: HttpRequest) -> dict[str, Any]:
    """Context processor: a signed-in page is written with its timer's starting point
    (templates/base.html), so opening a page does not cost a second request to ask for it."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(request, "session"):
        return {}
    # Lazy: only a full page (templates/base.html) reads it, not the fragments htmx asks for.
    return {"idle": SimpleLazyObject(lambda: idle_times(request))}


def signed_out_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse(
        {
            "signed_out": True,
            "message": gettext("You were signed out — sign in again; your text is kept."),
            "login_url": reverse("login"),
        },
        status=401,
    )


View = TypeVar("View", bound=Callable[..., Any])


def passive(view: View) -> View:
    """Mark a view whose requests are not the user's activity (the session timer's check)."""
    view.idle_passive = True  # type: ignore[attr-defined]
    return view


class IdleTimeoutMiddleware:
    """Signs out a session idle for longer than its timeout; records activity otherwise."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HtmxRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and idle_remaining(request) <= 0:
            minutes = round((request.session.get(TIMEOUT) or 0) / 60)
            logout(request)
            # Shown on this page, or (for a script's request) on the login page that follows.
            messages.info(
                request,
                ngettext(
                    "You were signed out after %(minutes)d minute without activity. Sign in "
                    "again to continue.",
                    "You were signed out after %(minutes)d minutes without activity. Sign in "
                    "again to continue.",
                    minutes,
                )
                % {"minutes": minutes},
            )
            if wants_json(request):
                return signed_out_json(request)
        return self.get_response(request)

    def process_view(
        self, request: HtmxRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            # A script's request after the session ended elsewhere (signed out in another tab,
            # the absolute limit): 401 JSON instead of LoginRequiredMiddleware's redirect to
            # an HTML login page, which autosave could not tell from a server error.
            if getattr(view, "login_required", True) and wants_json(request):
                return signed_out_json(request)
            return None
        if getattr(view, "idle_passive", False) or is_poll(request):
            # A page asking for news (the bell, the live board) is not the person using it:
            # polls every few seconds must not keep an unattended session signed in.
            return None
        now = time.time()
        last = request.session.get(LAST_ACTIVITY)
        if last is None or now - float(last) >= WRITE_EVERY_SECONDS:
            request.session[LAST_ACTIVITY] = now
            if TIMEOUT not in request.session:
                request.session[TIMEOUT] = idle_timeout_seconds(user)
        return None
