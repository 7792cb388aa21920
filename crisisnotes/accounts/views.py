from __future__ import annotations

import time
from typing import Any

from allauth.account.decorators import reauthentication_required
from allauth.mfa.utils import is_mfa_enabled
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, gettext_noop
from django.views.decorators.http import require_POST

from crisisnotes.accounts.forms import LanguageForm, UserForm
from crisisnotes.accounts.idle import LAST_ACTIVITY, idle_times, passive
from crisisnotes.accounts.mfa import security_notice
from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import role_required
from crisisnotes.accounts.selectors import (
    team_list,
    user_get_for_admin,
    user_is_locked_out,
    user_list,
)
from crisisnotes.accounts.services import (
    AccountError,
    user_create,
    user_language_set,
    user_mfa_reset,
    user_set_active,
    user_unlock,
    user_update,
)
from crisisnotes.audit.models import Action
from crisisnotes.audit.selectors import audit_event_list
from crisisnotes.audit.services import audit_record
from crisisnotes.confirm import confirmation_page, confirmation_pending
from crisisnotes.errors import refusal_as_message
from crisisnotes.http import AuthedRequest

# Where each role's work is, in order of precedence: a supervisor who also counsels starts on
# their team (the review queue), and reaches their own work from the menu. Names, not imports:
# crisisnotes never imports the apps built on it.
ROLE_HOME = {
    Role.SUPERVISOR: "crisis_sessions:dashboard",
    Role.COUNSELOR: "crisis_sessions:my_work",
    Role.CLINIC_ADMIN: "accounts:admin_home",
}


def home(request: AuthedRequest) -> HttpResponse:
    """Send each user to their work: the first role they hold in ROLE_HOME's order (the
    navigation bar links the others)."""
    user = request.user
    for role, url_name in ROLE_HOME.items():
        if user.has_role(role):
            return redirect(url_name)
    return render(request, "accounts/no_role.html", status=403)


@role_required(Role.CLINIC_ADMIN)
def admin_home(request: AuthedRequest) -> HttpResponse:
    user = request.user
    counts = user_list(user=user).aggregate(
        active=Count("pk", filter=Q(is_active=True)),
        inactive=Count("pk", filter=Q(is_active=False)),
        trainees=Count("pk", filter=Q(is_active=True, is_trainee=True)),
    )
    recent = audit_event_list(user=user)[:10]
    return render(request, "accounts/admin_home.html", {"counts": counts, "recent_events": recent})


@role_required(Role.CLINIC_ADMIN)
def user_list_view(request: AuthedRequest) -> HttpResponse:
    users = user_list(user=request.user)
    return render(request, "accounts/user_list.html", {"users": users})


def _save_user_form(request: AuthedRequest, form: UserForm, instance: User | None) -> User | None:
    actor = request.user
    if not form.is_valid():
        return None
    try:
        if instance is None:
            assert actor.clinic is not None
            return user_create(
                actor=actor,
                clinic=actor.clinic,
                username=form.cleaned_data["username"],
                **form.profile_changes(),
            )
        return user_update(actor=actor, user=instance, **form.profile_changes())
    except AccountError as error:
        form.add_error(None, str(error))
        return None
    except ValidationError as error:
        form.add_error(None, error)
        return None


@reauthentication_required(allow_get=True)
@role_required(Role.CLINIC_ADMIN)
def user_create_view(request: AuthedRequest) -> HttpResponse:
    teams = team_list(user=request.user)
    form = UserForm(request.POST or None, teams=teams, instance=User())
    if request.method == "POST":
        created = _save_user_form(request, form, None)
        if created is not None:
            messages.success(
                request,
                gettext(
                    "%(name)s was added. They set their password with “Forgot password?” on the "
                    "login page (an e-mail address is needed)."
                )
                % {"name": created.display_name},
            )
            return redirect("accounts:user_list")
    return render(
        request, "accounts/user_form.html", {"form": form, "title": gettext("Add a user")}
    )


@reauthentication_required(allow_get=True)
@role_required(Role.CLINIC_ADMIN)
def user_edit_view(request: AuthedRequest, user_id: int) -> HttpResponse:
    target = user_get_for_admin(user=request.user, user_id=user_id)
    teams = team_list(user=request.user)
    form = UserForm(request.POST or None, teams=teams, instance=target)
    if request.method == "POST":
        # ModelForm validation writes into the instance; save from a fresh copy so a refused
        # change leaves nothing half-applied on the object we render.
        fresh = user_get_for_admin(user=request.user, user_id=target.pk)
        if _save_user_form(request, form, fresh) is not None:
            messages.success(request, gettext("Saved %(name)s.") % {"name": fresh.display_name})
            return redirect("accounts:user_list")
    return render(
        request,
        "accounts/user_form.html",
        {
            "form": form,
            "title": gettext("Edit %(name)s") % {"name": target.display_name},
            "target": target,
            "locked_out": user_is_locked_out(user=target),
            "mfa_enabled": is_mfa_enabled(target),
        },
    )


@require_POST
@role_required(Role.CLINIC_ADMIN)
def user_unlock_view(request: AuthedRequest, user_id: int) -> HttpResponse:
    target = user_get_for_admin(user=request.user, user_id=user_id)
    user_unlock(actor=request.user, user=target, request=request)
    messages.success(request, gettext("%(name)s can log in again.") % {"name": target.display_name})
    return redirect("accounts:user_edit", user_id=target.pk)


@require_POST
@role_required(Role.CLINIC_ADMIN)
@refusal_as_message(back=lambda request, **kwargs: reverse("accounts:user_list"))
def user_active_view(request: AuthedRequest, user_id: int) -> HttpResponse:
    target = user_get_for_admin(user=request.user, user_id=user_id)
    active = request.POST.get("active") == "1"
    if not active and confirmation_pending(request):
        return confirmation_page(
            request,
            title=gettext("Deactivate %(name)s?") % {"name": target.display_name},
            message=gettext(
                "They can no longer log in. Their name stays on the records they wrote; a "
                "clinic admin can reactivate them."
            ),
            button=gettext("Deactivate"),
            cancel_url=reverse("accounts:user_list"),
            fields={"active": "0"},
        )
    user_set_active(actor=request.user, user=target, active=active)
    if active:
        text = gettext("%(name)s was reactivated.")
    else:
        text = gettext("%(name)s was deactivated; they can no longer log in.")
    messages.success(request, text % {"name": target.display_name})
    return redirect(reverse("accounts:user_list"))


@passive
def session_status(request: AuthedRequest) -> JsonResponse:
    """Seconds left before the idle logoff, for the page's timer. Not itself activity: a page
    left open must not keep its session alive by asking."""
    return _session_times(request)


@require_POST
def session_keepalive(request: AuthedRequest) -> JsonResponse:
    """ "Stay signed in": the request itself is the activity the middleware records."""
    request.session[LAST_ACTIVITY] = time.time()
    return _session_times(request)


def _session_times(request: AuthedRequest) -> JsonResponse:
    return JsonResponse(idle_times(request))


class NoticePasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change, audited, and the user is e-mailed about it."""

    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        _password_changed(self.request, form.user)
        return response


class NoticePasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    def form_valid(self, form: Any) -> HttpResponse:
        response = super().form_valid(form)
        _password_changed(self.request, form.user)
        return response


def _password_changed(request: HttpRequest, user: User) -> None:
    with transaction.atomic():
        audit_record(action=Action.PASSWORD_CHANGE, actor=user, request=request, obj=user)
        security_notice(user=user, what=gettext_noop("Your password was changed"))


@require_POST
@reauthentication_required
@role_required(Role.CLINIC_ADMIN)
def user_mfa_reset_view(request: AuthedRequest, user_id: int) -> HttpResponse:
    target = user_get_for_admin(user=request.user, user_id=user_id)
    user_mfa_reset(actor=request.user, user=target, request=request)
    messages.success(
        request,
        gettext("Two-factor sign-in of %(name)s was reset; they set it up again.")
        % {"name": target.display_name},
    )
    return redirect("accounts:user_edit", user_id=target.pk)


def language_view(request: AuthedRequest) -> HttpResponse:
    """Every signed-in user chooses the language of their own pages."""
    user = request.user
    form = LanguageForm(request.POST or None, instance=User.objects.get(pk=user.pk))
    if request.method == "POST" and form.is_valid():
        user_language_set(user=user, language=form.cleaned_data["language"], request=request)
        # This response is already in the new language.
        with translation.override(user.language or translation.get_language_from_request(request)):
            messages.success(request, gettext("Language saved."))
        return redirect("language")
    return render(request, "accounts/language.html", {"form": form})
