from django.urls import path

from safety import views

app_name = "safety"
urlpatterns = [
    path(
        "notes/<int:note_id>/notify-supervisor/", views.supervisor_notify, name="supervisor_notify"
    ),
    path(
        "notes/<int:note_id>/supervisor-record/", views.supervisor_record, name="supervisor_record"
    ),
    path("notes/<int:note_id>/supervisor/", views.supervisor_list, name="supervisor_list"),
    path("consultations/<int:record_id>/", views.supervisor_ack, name="supervisor_ack"),
    path("notes/<int:note_id>/disclosures/new/", views.disclosure_new, name="disclosure_new"),
    path("notes/<int:note_id>/plan/", views.plan_panel, name="plan_panel"),
    path("clients/<int:client_id>/plan/", views.plan, name="plan"),
    path("clients/<int:client_id>/plan/edit/", views.plan_edit, name="plan_edit"),
    path("clients/<int:client_id>/plan/compare/", views.plan_compare, name="plan_compare"),
    path("clients/<int:client_id>/plan/v<int:number>/", views.plan_version, name="plan_version"),
    path("clients/<int:client_id>/plan/copy/", views.plan_client_copy, name="plan_copy"),
    path("clients/<int:client_id>/plan/copy.pdf", views.plan_client_copy_pdf, name="plan_copy_pdf"),
    path(
        "clients/<int:client_id>/disclosures/",
        views.disclosure_accounting,
        name="disclosure_accounting",
    ),
    path(
        "clients/<int:client_id>/disclosures/accounting.pdf",
        views.disclosure_accounting_pdf,
        name="disclosure_accounting_pdf",
    ),
    path(
        "clients/<int:client_id>/disclosures/record/",
        views.disclosure_record_view,
        name="disclosure_record",
    ),
    path(
        "exports/<int:job_id>/disclosure/",
        views.disclosure_export_view,
        name="disclosure_export",
    ),
    path("disclosures/<int:disclosure_id>/", views.disclosure_detail, name="disclosure_detail"),
]
