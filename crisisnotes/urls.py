from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from crisisnotes.accounts.clinic_views import clinical_rules_view
from crisisnotes.accounts.forms import LoginForm, QueuedPasswordResetForm
from crisisnotes.accounts.views import home
from crisisnotes.health import healthz, readyz

urlpatterns = [
    path("", home, name="home"),
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    path("help/clinical-rules/", clinical_rules_view, name="clinical_rules"),
    path(
        "login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginForm, redirect_authenticated_user=True
        ),
        name="login",
    ),
    path(
        "password-reset/",
        auth_views.PasswordResetView.as_view(form_class=QueuedPasswordResetForm),
        name="password_reset",
    ),
    path("", include("django.contrib.auth.urls")),
    path("clinic/", include("crisisnotes.accounts.urls")),
    path("notifications/", include("crisisnotes.notifications.urls")),
    path("", include("sessions.urls")),
    path("safety/", include("safety.urls")),
    path("operators/", admin.site.urls),
]
