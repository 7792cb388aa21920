"""Error pages in the app's own layout, each saying what to do next."""

from __future__ import annotations

from django.http import HttpResponse, HttpResponseForbidden, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext

from crisisnotes.http import HtmxRequest, wants_json


def csrf_failure(request: HtmxRequest, reason: str = "") -> HttpResponse:
    """A form refused for its security token: almost always a page left open past a sign-out
    or a new sign-in in another tab. Say so, and how to get the typed text back (the note page
    keeps it in the browser until it is saved)."""
    if wants_json(request):
        # Autosave: the page's token is stale (signed out, or signed in again in another tab).
        # The note page keeps the text and offers to sign in again, which reloads the token.
        return JsonResponse(
            {"signed_out": True, "message": gettext("Your sign-in changed; sign in again.")},
            status=403,
        )
    return HttpResponseForbidden(render_to_string("403_csrf.html", request=request))
