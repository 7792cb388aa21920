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
        _count_sign_in_as_recent_authentication(request)


def _count_sign_in_as_recent_authentication(request: HttpRequest) -> None:
    # allauth asks for the password again before sensitive actions (bulk export, role changes,
    # two-factor set-up) unless the user proved it within ACCOUNT_REAUTHENTICATION_TIMEOUT. The
    # sign-in that just happened is such a proof: without this, a clinic admin sent to set up
    # two-factor sign-in would be asked for the password they typed a second ago.
    records = request.session.get("account_authentication_methods")
    if isinstance(records, list) and records:
        request.session["account_authentication_methods"] = [
            {**record, "reauthenticated": True} for record in records
        ]


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
