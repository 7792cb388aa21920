"""The audit log, a client's access report and a user's activity report (clinic admins), each
with the same filters, real pagination and a CSV of exactly the filtered rows."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import replace
from datetime import tzinfo
from typing import Any

from django.http import HttpResponse, QueryDict, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import require_role, role_required
from crisisnotes.audit.forms import AuditFilterForm
from crisisnotes.audit.models import Action, AuditEvent
from crisisnotes.audit.selectors import (
    AuditFilters,
    audit_actor_choices,
    audit_actor_get,
    audit_client_find,
    audit_client_get,
    audit_event_labelled,
    audit_event_search,
    audit_people_summary,
    log_page,
)
from crisisnotes.audit.services import audit_record
from crisisnotes.http import AuthedRequest

CSV_BATCH = 2000

CSV_HEADER = [
    "time",
    "time_zone",
    "username",
    "display_name",
    "action",
    "record",
    "record_type",
    "record_id",
    "client_id",
    "client",
    "details",
    "ip_address",
    "user_agent",
]


def _form(request: AuthedRequest) -> AuditFilterForm:
    user = request.user
    return AuditFilterForm(
        request.GET or None,
        actors=audit_actor_choices(user=user),
        find_clients=lambda text: audit_client_find(user=user, text=text),
    )


def _filters(form: AuditFilterForm, **fixed: Any) -> AuditFilters | None:
    """The form's filters with the report's fixed ones on top; None if the form is invalid (the
    page then lists nothing rather than a log filtered differently from what was asked)."""
    if not form.is_bound:
        return replace(AuditFilters(), **fixed)
    if not form.is_valid():
        return None
    return replace(form.filters(), **fixed)


def _query_without_page(request: AuthedRequest) -> str:
    query: QueryDict = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _render_log(
    request: AuthedRequest,
    *,
    title: str,
    filters: AuditFilters | None,
    form: AuditFilterForm,
    csv_url: str,
    summary: bool = False,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    user = request.user
    page = None
    people: list[dict[str, object]] = []
    if filters is not None:
        events = audit_event_search(user=user, filters=filters)
        page = log_page(
            events=audit_event_labelled(user=user, events=events),
            number_text=request.GET.get("page"),
            filters=filters,
            staff=form.staff,
        )
        if summary:
            people = audit_people_summary(events=events)
    query = _query_without_page(request)
    return render(
        request,
        "audit/log.html",
        {
            "title": title,
            "form": form,
            "page": page,
            "events": [(event, getattr(event, "client_label", None) or "") for event in page.events]
            if page
            else [],
            "people": people,
            "query": query,
            "csv_url": f"{csv_url}?{query}" if query else csv_url,
            "time_zone": timezone.get_current_timezone_name(),
            "filtered_client_id": filters.client_id if filters else None,
            **(extra or {}),
        },
    )


@role_required(Role.CLINIC_ADMIN)
def audit_log_view(request: AuthedRequest) -> HttpResponse:
    form = _form(request)
    return _render_log(
        request,
        title=gettext("Audit log"),
        filters=_filters(form),
        form=form,
        csv_url=reverse("accounts:audit_csv"),
    )


@role_required(Role.CLINIC_ADMIN)
def audit_client_report_view(request: AuthedRequest, client_id: int) -> HttpResponse:
    """Everyone who viewed, changed, exported or printed anything of this client."""
    user = request.user
    client = audit_client_get(user=user, client_id=client_id)
    form = _form(request)
    # Reading who saw a client is itself a read of the client's record.
    audit_record(action=Action.VIEW, request=request, obj=client, summary="Access report")
    return _render_log(
        request,
        title=gettext("Access report: %(client)s") % {"client": client},
        filters=_filters(form, client_id=client_id),
        form=form,
        csv_url=reverse("accounts:audit_client_csv", kwargs={"client_id": client_id}),
        summary=True,
        extra={"report_client": client},
    )


@role_required(Role.CLINIC_ADMIN)
def audit_user_report_view(request: AuthedRequest, actor_id: int) -> HttpResponse:
    """Everything one user did in the clinic."""
    actor = audit_actor_get(user=request.user, actor_id=actor_id)
    form = _form(request)
    return _render_log(
        request,
        title=gettext("Activity of %(name)s (%(username)s)")
        % {"name": actor.display_name, "username": actor.username},
        filters=_filters(form, actor_id=actor.pk),
        form=form,
        csv_url=reverse("accounts:audit_user_csv", kwargs={"actor_id": actor.pk}),
        extra={"report_actor": actor},
    )


def _csv_cell(value: object) -> str:
    text = "" if value is None else str(value)
    # A leading =, +, - or @ would be a formula in a spreadsheet: neutralise it.
    return "'" + text if text and text[0] in "=+-@" else text


class _Echo:
    def write(self, value: str) -> str:
        return value


def _csv_rows(user: User, events: Any, zone: tzinfo) -> Iterator[str]:
    # The zone is passed in: the rows are produced after the view returned, when the clinic's
    # time zone is no longer the active one.
    writer = csv.writer(_Echo())
    zone_name = str(zone)
    yield writer.writerow(CSV_HEADER)
    batch: list[AuditEvent] = []

    def flush() -> Iterator[str]:
        for event in batch:
            yield writer.writerow(
                [
                    _csv_cell(value)
                    for value in (
                        event.created_at.astimezone(zone).isoformat(timespec="seconds"),
                        zone_name,
                        event.actor_username,
                        event.actor.display_name if event.actor else "",
                        event.get_action_display(),
                        event.record_in_words,
                        event.object_type,
                        event.object_id,
                        event.client_id or "",
                        getattr(event, "client_label", None) or "",
                        event.summary,
                        event.ip_address or "",
                        event.user_agent,
                    )
                ]
            )

    # A server-side cursor: a million rows stream in constant memory, each with its client's
    # label (audit_event_labelled, as on the page), actors fetched per batch.
    for event in audit_event_labelled(user=user, events=events).iterator(chunk_size=CSV_BATCH):
        batch.append(event)
        if len(batch) >= CSV_BATCH:
            yield from flush()
            batch = []
    if batch:
        yield from flush()


def _csv_response(
    request: AuthedRequest, filters: AuditFilters | None, name: str
) -> HttpResponse | StreamingHttpResponse:
    user = request.user
    if filters is None:
        return HttpResponse(
            gettext("The filters are not valid; correct them on the page first."),
            status=400,
            content_type="text/plain",
        )
    events = audit_event_search(user=user, filters=filters)
    # Downloading the log is itself recorded (it names clients and what was done to them).
    audit_record(
        action=Action.EXPORT,
        request=request,
        object_type=AuditEvent._meta.label_lower,
        client=filters.client_id,
        summary=f"Audit log CSV ({name})",
    )
    response = StreamingHttpResponse(
        _csv_rows(user, events, timezone.get_current_timezone()), content_type="text/csv"
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="audit-{name}-{stamp}.csv"'
    return response


def audit_csv_view(request: AuthedRequest) -> HttpResponse | StreamingHttpResponse:
    # Checked here, not by @role_required, which is typed for plain HttpResponses.
    require_role(request.user, Role.CLINIC_ADMIN)
    return _csv_response(request, _filters(_form(request)), "log")


def audit_client_csv_view(
    request: AuthedRequest, client_id: int
) -> HttpResponse | StreamingHttpResponse:
    # Checked here, not by @role_required, which is typed for plain HttpResponses.
    require_role(request.user, Role.CLINIC_ADMIN)
    audit_client_get(user=request.user, client_id=client_id)
    return _csv_response(
        request, _filters(_form(request), client_id=client_id), f"client-{client_id}"
    )


def audit_user_csv_view(
    request: AuthedRequest, actor_id: int
) -> HttpResponse | StreamingHttpResponse:
    # Checked here, not by @role_required, which is typed for plain HttpResponses.
    require_role(request.user, Role.CLINIC_ADMIN)
    actor = audit_actor_get(user=request.user, actor_id=actor_id)
    return _csv_response(
        request, _filters(_form(request), actor_id=actor.pk), f"user-{actor.username}"
    )
