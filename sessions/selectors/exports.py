"""Reads of export jobs, scoped: another clinic's job is a 404; a clinic admin sees every job of
the clinic, anyone else only their own."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role
from sessions.models import Client, CrisisSession, ExportJob
from sessions.models.notes import RiskLevel
from sessions.policies import EXPORT_ROLES
from sessions.registry import sections


def export_job_list_for_admin(*, user: User) -> QuerySet[ExportJob]:
    require_role(user, Role.CLINIC_ADMIN)
    return (
        ExportJob.objects.filter(clinic=user.clinic)
        .select_related("requested_by", "clinic")
        .order_by("-created_at", "-id")
    )


def export_job_get(*, user: User, job_id: int) -> ExportJob:
    require_role(user, *EXPORT_ROLES)
    jobs = ExportJob.objects.filter(clinic=user.clinic).select_related("requested_by", "clinic")
    if not user.has_role(Role.CLINIC_ADMIN):
        jobs = jobs.filter(requested_by=user)
    return get_object_or_404(jobs, pk=job_id)


def export_filter_choices(*, user: User) -> tuple[QuerySet[User], QuerySet[Client]]:
    """Counselors and clients of the admin's clinic, for the bulk export filters."""
    require_role(user, Role.CLINIC_ADMIN)
    counselors = User.objects.filter(clinic=user.clinic, is_counselor=True).order_by(
        "full_name", "username"
    )
    clients = Client.objects.filter(clinic=user.clinic).order_by("alias")
    return counselors, clients


def export_scope_description(*, job: ExportJob) -> list[tuple[str, str]]:
    """The job's filters in words, for the people reading it ("Counselor", "Robin Example"):
    names are looked up within the job's clinic, so a stale id reads as "(no longer found)"."""
    scope = job.scope or {}
    lines: list[tuple[str, str]] = []
    if "session_id" in scope:
        lines.append((_("Session"), f"#{scope['session_id']}"))
    if "date_from" in scope:
        lines.append((_("From"), str(scope["date_from"])))
    if "date_to" in scope:
        lines.append((_("To"), str(scope["date_to"])))
    if "counselor_id" in scope:
        counselor = User.objects.filter(clinic=job.clinic, pk=scope["counselor_id"]).first()
        lines.append(
            (_("Counselor"), counselor.display_name if counselor else _("(no longer found)"))
        )
    if "client_id" in scope:
        client = Client.objects.filter(clinic=job.clinic, pk=scope["client_id"]).first()
        lines.append((_("Client"), client.alias if client else _("(no longer found)")))
    if "risk_level" in scope:
        lines.append((_("Risk level"), str(RiskLevel(scope["risk_level"]).label)))
    return lines


def record_queryset() -> QuerySet[CrisisSession]:
    """Notes with everything their record prints joined in: the header's people and every
    registered section's rows (the PDF, the FHIR export and the FHIR endpoint read through it).
    Unscoped: each caller filters by the clinic and status it is allowed."""
    related = ["clinic", "client", "author", "signed_by", "cosigned_by"]
    for section in sections():
        related.extend(section.select_related())
    return CrisisSession.objects.select_related(*related)
