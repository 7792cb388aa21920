"""Two-factor sign-in with django-allauth's MFA (an authenticator app and recovery codes).

Who must use it: operators (superusers, the Django admin), clinic admins, and everyone in a
clinic whose policy says so (Clinic.require_mfa). Until they have set it up, every page sends
them to the set-up page. Setting it up, removing it, signing in with a recovery code and a
reset by a clinic admin are audited, and the user is e-mailed (through the outbox) each time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa import signals as mfa_signals
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from crisisnotes.notifications.texts import recipient_language

logger = logging.getLogger(__name__)

# Pages a user who must set up two-factor sign-in can still reach.
# /jsi18n/: the JavaScript translations every page (the set-up page too) loads.
ALLOWED_PREFIXES = (
    "/accounts/",
    "/login/",
    "/logout/",
    "/session/",
    "/static/",
    "/healthz",
    "/jsi18n/",
)


def mfa_required(user: Any) -> bool:
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.is_clinic_admin:
        return True
    clinic = getattr(user, "clinic", None)
    return bool(clinic is not None and clinic.require_mfa)


class MfaRequiredMiddleware:
    """Sends a user who must use two-factor sign-in, and has not set it up, to the set-up page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: Any, kwargs: Any
    ) -> HttpResponse | None:
        user = request.user
        # Not only login-required views: the Django admin's views are marked otherwise.
        if not user.is_authenticated or request.path.startswith(ALLOWED_PREFIXES):
            return None
        if not mfa_required(user) or is_mfa_enabled(user):
            return None
        if request.headers.get("Accept", "").startswith("application/json"):
            return JsonResponse(
                {"message": gettext("Set up two-factor sign-in first.")}, status=403
            )
        messages.info(
            request,
            gettext(
                "Your role (or your clinic) requires two-factor sign-in. Set up an authenticator "
                "app to continue."
            ),
        )
        return redirect("mfa_activate_totp")


class AccountAdapter(DefaultAccountAdapter):
    """Accounts are created by clinic admins, never by sign-up; allauth's e-mails go through
    the outbox like every other e-mail."""

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return False

    def send_mail(self, template_prefix: str, email: str, context: dict[str, Any]) -> None:
        from crisisnotes.notifications.models import OutgoingEmail
        from crisisnotes.notifications.services import email_queue

        user = User.objects.filter(email__iexact=email, is_active=True).first()
        if user is None:
            logger.warning("No active user for an allauth e-mail (%s)", template_prefix)
            return
        message = self.render_mail(template_prefix, email, {"user": user, **context})
        email_queue(
            recipient=user,
            kind=OutgoingEmail.Kind.SECURITY,
            subject=str(message.subject),
            body=str(message.body),
        )


class MFAAdapter(DefaultMFAAdapter):
    def send_notification_mail(self, *args: Any, **kwargs: Any) -> None:
        # The signal receivers below queue the project's own notice (and audit it).
        return None


def security_notice(*, user: User, what: str, **params: str) -> None:
    """E-mail the user that their sign-in changed, so a change they did not make is noticed."""
    from crisisnotes.notifications.models import OutgoingEmail
    from crisisnotes.notifications.services import email_queue

    if not user.can_be_emailed:
        return
    # `what` is marked with gettext_noop by the callers: it is translated here, in the
    # recipient's language (the e-mail is stored and sent later by a worker).
    with translation.override(recipient_language(user.language)):
        event = gettext(what) % params
        subject = gettext("crisisnotes: %(event)s") % {"event": event}
        body = gettext(
            "Hello %(name)s,\n\n%(event)s on your crisisnotes account (%(username)s).\n\n"
            "If this was not you, tell your clinic admin at once."
        ) % {"name": user.display_name, "event": event, "username": user.get_username()}
    email_queue(recipient=user, kind=OutgoingEmail.Kind.SECURITY, subject=subject, body=body)


def _label(authenticator: Authenticator) -> str:
    return str(authenticator.get_type_display()).lower()


@receiver(mfa_signals.authenticator_added)
def _on_added(sender: Any, request: HttpRequest, user: User, authenticator: Any, **kw: Any) -> None:
    with transaction.atomic():
        audit_record(
            action=Action.MFA_ENROL,
            actor=user,
            request=request,
            obj=user,
            summary=f"added {_label(authenticator)}",
        )
        if authenticator.type == Authenticator.Type.TOTP:
            security_notice(user=user, what=gettext_noop("Two-factor sign-in was set up"))


@receiver(mfa_signals.authenticator_removed)
def _on_removed(
    sender: Any, request: HttpRequest, user: User, authenticator: Any, **kw: Any
) -> None:
    with transaction.atomic():
        audit_record(
            action=Action.MFA_REMOVE,
            actor=user,
            request=request,
            obj=user,
            summary=f"removed {_label(authenticator)}",
        )
        security_notice(user=user, what=gettext_noop("Two-factor sign-in was removed"))


@receiver(mfa_signals.authenticator_reset)
def _on_reset(sender: Any, request: HttpRequest, user: User, authenticator: Any, **kw: Any) -> None:
    audit_record(
        action=Action.MFA_ENROL,
        actor=user,
        request=request,
        obj=user,
        summary=f"new {_label(authenticator)}",
    )


@receiver(mfa_signals.authenticator_used)
def _on_used(sender: Any, request: HttpRequest, user: User, authenticator: Any, **kw: Any) -> None:
    if authenticator.type != Authenticator.Type.RECOVERY_CODES:
        return
    with transaction.atomic():
        audit_record(
            action=Action.MFA_RECOVERY,
            actor=user,
            request=request,
            obj=user,
            summary="signed in with a recovery code",
        )
        security_notice(user=user, what=gettext_noop("A recovery code was used to sign in"))
