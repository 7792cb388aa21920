"""The request types of our views, and how a view tells a script's request from a page's.

django-htmx's middleware sets `request.htmx` on every request, and LoginRequiredMiddleware plus
`role_required` let only an active user of ours reach a view that is not marked
`login_not_required`: a view annotated with `AuthedRequest` reads `request.user` as a `User` and
`request.htmx` without casts. Code tests `request.htmx`, never the HX-Request header by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from crisisnotes.accounts.models import User


class HtmxRequest(HttpRequest):
    """Any request past django-htmx's middleware (signed in or not)."""

    htmx: HtmxDetails


class AuthedRequest(HtmxRequest):
    """A request a signed-in view receives."""

    user: User


def wants_json(request: HtmxRequest) -> bool:
    """A script's request (autosave, htmx, the session timer) rather than a page: it gets a
    status and a small answer, never a redirect or a full page."""
    return (
        request.headers.get("X-Autosave") == "1"
        or bool(request.htmx)
        or "application/json" in request.headers.get("Accept", "")
    )


def bounded_rows(rows: QuerySet[Any], *, limit: int, show_all: bool) -> tuple[Sequence[Any], int]:
    """The first `limit` rows of a list page and how many there are in all (every row with
    `show_all`, the page's "Show all" link). One row past the bound says whether there are more;
    only then are they counted, so a short list costs one query."""
    shown = list(rows if show_all else rows[: limit + 1])
    total = len(shown)
    if not show_all and total > limit:
        shown, total = shown[:limit], rows.count()
    return shown, total
