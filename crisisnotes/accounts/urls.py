from django.urls import path

from crisisnotes.accounts import views

app_name = "accounts"
urlpatterns = [
    path("", views.admin_home, name="admin_home"),
    path("users/", views.user_list_view, name="user_list"),
    path("users/new/", views.user_create_view, name="user_create"),
    path("users/<int:user_id>/", views.user_edit_view, name="user_edit"),
    path("users/<int:user_id>/active/", views.user_active_view, name="user_active"),
    path("users/<int:user_id>/unlock/", views.user_unlock_view, name="user_unlock"),
    path("users/<int:user_id>/mfa-reset/", views.user_mfa_reset_view, name="user_mfa_reset"),
    path("audit/", views.audit_log_view, name="audit_log"),
]
