"""Logins, logouts and failed logins are audit events."""

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.http import HttpRequest

from crisisnotes.accounts.idle import idle_session_start
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record


@receiver(user_logged_in)
def _audit_login(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    audit_record(action=Action.LOGIN, actor=user, request=request)
    if request is not None and hasattr(request, "session"):
        idle_session_start(request, user)


@receiver(user_logged_out)
def _audit_logout(sender: Any, request: HttpRequest, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit_record(action=Action.LOGOUT, actor=user, request=request)


@receiver(user_login_failed)
def _audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: HttpRequest | None = None, **kwargs: Any
) -> None:
    audit_record(
        action=Action.LOGIN_FAILED,
        request=request,
        actor_username=str(credentials.get("username", "")),
        summary="wrong username or password",
    )
