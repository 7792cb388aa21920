from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "crisisnotes.audit"
    label = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from crisisnotes.db import connect_sqlite_guards

        connect_sqlite_guards(sender=self)
