"""Error pages in the app's own layout, each saying what to do next."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseForbidden
from django.template.loader import render_to_string


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form refused for its security token: almost always a page left open past a sign-out
    or a new sign-in in another tab. Say so, and how to get the typed text back (the note page
    keeps it in the browser until it is saved)."""
    return HttpResponseForbidden(render_to_string("403_csrf.html", request=request))
