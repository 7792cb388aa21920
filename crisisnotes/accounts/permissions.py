"""Role checks shared by every app's selectors and views."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse

from crisisnotes.accounts.models import Role, User
from crisisnotes.http import AuthedRequest


def require_role(user: User, *roles: Role) -> None:
    """Raise PermissionDenied (403) unless the user holds one of the roles in their clinic."""
    if not user.is_authenticated or user.clinic_id is None or not user.is_active:
        raise PermissionDenied
    if not any(user.has_role(role) for role in roles):
        raise PermissionDenied


def role_required(
    *roles: Role,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """View decorator: 403 for a signed-in user without any of the roles."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: AuthedRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            # LoginRequiredMiddleware let only a signed-in user of ours this far.
            require_role(request.user, *roles)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
