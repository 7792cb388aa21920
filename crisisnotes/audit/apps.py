from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AuditConfig(AppConfig):
    name = "crisisnotes.audit"
    label = "audit"
    verbose_name = _("Audit log")

    def ready(self) -> None:
        from crisisnotes.db import connect_sqlite_guards

        connect_sqlite_guards(sender=self)
