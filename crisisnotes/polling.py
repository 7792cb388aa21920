"""Partials that open pages poll with htmx (the live board, consult replies, the bell).

Polling requests carry the header `X-Live-Poll: 1` (set on the polled elements), so anything
that measures a person's activity (idle logoff) can tell a page asking for news from a person
using it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse

# htmx stops polling an element whose poll is answered with this status, and swaps nothing.
STOP_POLLING = 286
POLL_HEADER = "X-Live-Poll"


def is_poll(request: HttpRequest) -> bool:
    return request.headers.get(POLL_HEADER) == "1"


def poll_endpoint(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Signed out (idle logoff, logged out in another tab): answer STOP_POLLING and leave the page
    as it is. The login redirect LoginRequiredMiddleware would send is followed by the browser,
    and htmx would swap the login page into the board or the navigation bar."""

    @login_not_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return HttpResponse(status=STOP_POLLING)
        return view(request, *args, **kwargs)

    return wrapped
