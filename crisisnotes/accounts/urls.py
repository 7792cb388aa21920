from django.urls import path

from crisisnotes.accounts import clinic_views, views
from crisisnotes.audit import views as audit_views

app_name = "accounts"
urlpatterns = [
    path("", views.admin_home, name="admin_home"),
    path("users/", views.user_list_view, name="user_list"),
    path("users/new/", views.user_create_view, name="user_create"),
    path("users/<int:user_id>/", views.user_edit_view, name="user_edit"),
    path("users/<int:user_id>/active/", views.user_active_view, name="user_active"),
    path("users/<int:user_id>/unlock/", views.user_unlock_view, name="user_unlock"),
    path("users/<int:user_id>/mfa-reset/", views.user_mfa_reset_view, name="user_mfa_reset"),
    path("settings/", clinic_views.clinic_settings_view, name="clinic_settings"),
    path("audit/", audit_views.audit_log_view, name="audit_log"),
    path("audit/csv/", audit_views.audit_csv_view, name="audit_csv"),
    path(
        "audit/clients/<int:client_id>/",
        audit_views.audit_client_report_view,
        name="audit_client",
    ),
    path(
        "audit/clients/<int:client_id>/csv/",
        audit_views.audit_client_csv_view,
        name="audit_client_csv",
    ),
    path("audit/users/<int:actor_id>/", audit_views.audit_user_report_view, name="audit_user"),
    path("audit/users/<int:actor_id>/csv/", audit_views.audit_user_csv_view, name="audit_user_csv"),
]
