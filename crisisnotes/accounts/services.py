"""Every write to users and clinics, each audited in the same transaction."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.db import transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext, gettext_noop

from crisisnotes.accounts.models import Clinic, Team, User
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from crisisnotes.errors import DomainError
from crisisnotes.notifications.texts import recipient_language

PROFILE_FIELDS = (
    "full_name",
    "email",
    "credential",
    "licence_number",
    "is_trainee",
    "team",
    "is_counselor",
    "is_supervisor",
    "is_clinic_admin",
)


class AccountError(DomainError):
    """A change to an account that the clinic's rules do not allow."""


def _check_team(*, clinic: Clinic, team: Team | None) -> None:
    if team is not None and team.clinic_id != clinic.pk:
        raise AccountError(gettext("That team belongs to another clinic."))


@transaction.atomic
def user_create(
    *,
    actor: User | None,
    clinic: Clinic,
    username: str,
    full_name: str,
    password: str | None = None,
    email: str = "",
    credential: str = "",
    licence_number: str = "",
    is_trainee: bool = False,
    team: Team | None = None,
    is_counselor: bool = False,
    is_supervisor: bool = False,
    is_clinic_admin: bool = False,
) -> User:
    """Create a user in `clinic`. Without a password the account has an unusable one, and the new
    user sets their own through the password-reset e-mail."""
    _check_team(clinic=clinic, team=team)
    user = User(
        clinic=clinic,
        username=username,
        full_name=full_name,
        email=email,
        credential=credential,
        licence_number=licence_number,
        is_trainee=is_trainee,
        team=team,
        is_counselor=is_counselor,
        is_supervisor=is_supervisor,
        is_clinic_admin=is_clinic_admin,
    )
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean()
    user.save()
    audit_record(
        action=Action.CREATE, actor=actor, obj=user, clinic=clinic, summary=f"user {username}"
    )
    return user


@transaction.atomic
def user_update(*, actor: User, user: User, **changes: object) -> User:
    """Change a user's profile and roles. Only the fields in PROFILE_FIELDS can change here; the
    clinic never changes (records stay with the clinic that made them)."""
    unknown = set(changes) - set(PROFILE_FIELDS)
    if unknown:
        raise AccountError(f"Cannot change {', '.join(sorted(unknown))} here.")
    assert user.clinic is not None
    _check_team(clinic=user.clinic, team=changes.get("team", user.team))  # type: ignore[arg-type]
    changed = [field for field, value in changes.items() if getattr(user, field) != value]
    for field in changed:
        setattr(user, field, changes[field])
    if changed:
        user.full_clean()
        user.save(update_fields=changed)
        audit_record(
            action=Action.UPDATE, actor=actor, obj=user, summary="changed " + ", ".join(changed)
        )
    return user


@transaction.atomic
def user_set_active(*, actor: User, user: User, active: bool) -> User:
    """Deactivate (or reactivate) a user. A deactivated user cannot log in; their name stays on
    everything they wrote because users are never deleted."""
    if user.pk == actor.pk and not active:
        raise AccountError(gettext("You cannot deactivate your own account."))
    if user.is_active != active:
        user.is_active = active
        user.save(update_fields=["is_active"])
        audit_record(
            action=Action.UPDATE,
            actor=actor,
            obj=user,
            summary="reactivated" if active else "deactivated",
        )
    return user


@transaction.atomic
def user_unlock(*, actor: User, user: User, request: HttpRequest | None = None) -> int:
    """Clear the failed log-ins recorded for `user` (django-axes), ending a lockout before its
    cool-off; audited. Returns how many failure records were cleared."""
    from axes.utils import reset

    cleared = reset(username=user.get_username())
    audit_record(
        action=Action.UNLOCK,
        actor=actor,
        request=request,
        obj=user,
        summary=f"cleared {cleared} failed log-in record(s)",
    )
    return int(cleared)


@transaction.atomic
def user_mfa_reset(*, actor: User, user: User, request: HttpRequest | None = None) -> int:
    """Remove every two-factor authenticator of `user` (lost phone): they set it up again at
    their next sign-in if their role requires it. Audited; the user is e-mailed."""
    from allauth.mfa.models import Authenticator

    from crisisnotes.accounts.mfa import security_notice

    removed, _ = Authenticator.objects.filter(user=user).delete()
    audit_record(
        action=Action.MFA_RESET,
        actor=actor,
        request=request,
        obj=user,
        summary=f"removed {removed} authenticator(s)",
    )
    security_notice(
        user=user,
        what=gettext_noop("Two-factor sign-in was reset by %(name)s"),
        name=actor.display_name,
    )
    return removed


def user_password_reset_message(*, user: User, domain: str, use_https: bool) -> tuple[str, str]:
    """Subject and body of the password-reset e-mail, made when it is sent (the one-time token
    is never stored). Django's token and the project's templates, so the link works with the
    standard reset-confirm view."""
    context = {
        "email": user.email,
        "domain": domain,
        "site_name": "crisisnotes",
        "uid": urlsafe_base64_encode(force_bytes(user.pk)),
        "user": user,
        "token": default_token_generator.make_token(user),
        "protocol": "https" if use_https else "http",
    }
    # In the recipient's language (the worker sending it has no request to take one from).
    with translation.override(recipient_language(user.language)):
        subject = "".join(
            render_to_string("registration/password_reset_subject.txt", context).splitlines()
        )
        return subject, render_to_string("registration/password_reset_email.txt", context)


def user_password_reset_request(*, user: User, domain: str, use_https: bool) -> bool:
    """Queue the password-reset e-mail for an active user with an address; False if none."""
    from crisisnotes.notifications.models import OutgoingEmail
    from crisisnotes.notifications.services import email_queue

    if not user.can_be_emailed:
        return False
    email_queue(
        recipient=user,
        kind=OutgoingEmail.Kind.PASSWORD_RESET,
        link_domain=domain,
        link_https=use_https,
    )
    return True


@transaction.atomic
def user_language_set(*, user: User, language: str, request: HttpRequest | None = None) -> User:
    """A user chooses their own interface language ("" = follow the browser); audited.
    Takes effect from the next request (crisisnotes.middleware.UserLanguageMiddleware)."""
    if language not in {"", *dict(settings.LANGUAGES)}:
        raise AccountError(gettext("Choose one of the languages offered."))
    if user.language != language:
        old = user.language or "browser"
        user.language = language
        user.save(update_fields=["language"])
        audit_record(
            action=Action.UPDATE,
            actor=user,
            request=request,
            obj=user,
            summary=f"interface language {old} → {language or 'browser'}",
        )
    return user
