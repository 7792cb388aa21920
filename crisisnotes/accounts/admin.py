from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from crisisnotes.accounts.models import Clinic, Team, User


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "crisis_line_phone"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "clinic", "supervisor"]
    list_filter = ["clinic"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "full_name", "clinic", "team", "is_active"]
    list_filter = ["clinic", "is_active", "is_counselor", "is_supervisor", "is_clinic_admin"]
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        (
            "Clinic",
            {
                "fields": (
                    "full_name",
                    "credential",
                    "licence_number",
                    "clinic",
                    "team",
                    "is_trainee",
                    "is_counselor",
                    "is_supervisor",
                    "is_clinic_admin",
                )
            },
        ),
    )
    add_fieldsets = (
        *BaseUserAdmin.add_fieldsets,
        ("Clinic", {"fields": ("full_name", "clinic")}),
    )
