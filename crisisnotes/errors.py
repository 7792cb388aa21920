"""One base for every refusal a service raises, and one way a view turns it into a message.

A service that refuses a request (a rule not met, a race lost, a record no longer open to the
user) raises a subclass of `DomainError` whose text is written for the user: it says what
happened and what to do. The service's transaction has rolled back, so nothing half-done stays.
Views whose answer to a refusal is "say it and go back" use `@refusal_as_message(back=...)`
instead of their own try/except; views that show the refusal inside a form or a partial (the
typed text stays on the page) catch it themselves.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect

if TYPE_CHECKING:
    from crisisnotes.http import AuthedRequest


class DomainError(Exception):
    """A service refused the request; `str(error)` is the message for the user."""


View = Callable[..., HttpResponse]


def refusal_as_message(*, back: Callable[..., str]) -> Callable[[View], View]:
    """On a `DomainError` from the view, show its text as an error message and redirect to
    `back(request, **view_kwargs)` (the page the action was taken from)."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                return view(request, *args, **kwargs)
            except DomainError as error:
                messages.error(request, str(error))
                return redirect(back(request, **kwargs))

        return wrapped

    return decorator
