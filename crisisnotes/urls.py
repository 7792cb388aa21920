from allauth.account import views as allauth_views
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.views.generic import RedirectView

from crisisnotes.accounts.clinic_views import clinical_rules_view
from crisisnotes.accounts.forms import QueuedPasswordResetForm
from crisisnotes.accounts.idle import passive
from crisisnotes.accounts.views import (
    NoticePasswordChangeView,
    NoticePasswordResetConfirmView,
    home,
    language_view,
    session_keepalive,
    session_status,
)
from crisisnotes.health import healthz, readyz
from crisisnotes.js_catalog import javascript_catalog

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("help/clinical-rules/", clinical_rules_view, name="clinical_rules"),
    path("session/status/", session_status, name="session_status"),
    path("me/language/", language_view, name="language"),
    path("session/keepalive/", session_keepalive, name="session_keepalive"),
    # The translations static/js uses, in the request's language; the login page loads it too.
    # Passive: loading it is part of a page, not activity of its own for the idle timer.
    path(
        "jsi18n/",
        login_not_required(passive(javascript_catalog)),
        name="javascript-catalog",
    ),
    # django-allauth's login, so its two-factor step follows the password (axes still locks).
    path("login/", allauth_views.login, name="login"),
    # The Django admin signs in through the same page (and the same two-factor step).
    path(
        "operators/login/",
        login_not_required(RedirectView.as_view(url="/login/?next=/operators/")),
    ),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(form_class=QueuedPasswordResetForm),
        name="password_reset",
    ),
    # django.contrib.auth.urls without its own password_reset: that one would answer the login
    # page's link with Django's synchronous sender and stock text.
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password_change/", NoticePasswordChangeView.as_view(), name="password_change"),
    path(
        "password_change/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path(
        "password_reset/done/",
        auth_views.PasswordResetDoneView.as_view(),
        name="password_reset_done",
    ),
    path(
        "reset/<uidb64>/<token>/",
        NoticePasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "reset/done/",
        auth_views.PasswordResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
    # allauth's own password pages would send their e-mails synchronously: ours answer.
    path(
        "accounts/password/reset/",
        login_not_required(RedirectView.as_view(pattern_name="password_reset")),
    ),
    path("accounts/password/change/", RedirectView.as_view(pattern_name="password_change")),
    path("accounts/", include("allauth.urls")),
    path("clinic/", include("crisisnotes.accounts.urls")),
    path("notifications/", include("crisisnotes.notifications.urls")),
    path("", include("sessions.urls")),
    path("safety/", include("safety.urls")),
    path("operators/", admin.site.urls),
]
