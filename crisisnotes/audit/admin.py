from django.contrib import admin
from django.http import HttpRequest

from crisisnotes.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only for operators: the rows are append-only in the database as well."""

    list_display = ["created_at", "actor_username", "action", "object_type", "object_id", "clinic"]
    list_filter = ["action", "clinic"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
