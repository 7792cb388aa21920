from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "crisisnotes.audit"
    label = "audit"
    verbose_name = "Audit log"
