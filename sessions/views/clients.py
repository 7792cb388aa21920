"""Clients (case records): search as you type, create (optionally starting a session), edit, the
client page (timeline, follow-ups, addenda, panels of other apps), start a session."""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crisisnotes.accounts.models import Role
from crisisnotes.accounts.permissions import role_required
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from crisisnotes.http import AuthedRequest, wants_json
from sessions import registry
from sessions.forms.clients import ClientCreateForm, ClientForm, StartSessionForm
from sessions.models import CrisisSession
from sessions.policies import can_open_note
from sessions.registry import ClientPanel
from sessions.risk_trend import RISK_TREND_PANEL
from sessions.selectors.clients import (
    client_addenda,
    client_get,
    client_open_followup_rows,
    client_search,
    client_timeline,
)
from sessions.services.clients import (
    CLIENT_FIELDS,
    client_create,
    client_search_audit,
    client_update,
)
from sessions.services.notes import note_create
from sessions.views.notes import note_page_answer

READERS = (Role.COUNSELOR, Role.SUPERVISOR, Role.CLINIC_ADMIN)
# The client page's timeline shows this many sessions, most recent first, and links to all.
TIMELINE_SHOWN = 20


@role_required(*READERS)
def client_search_view(request: AuthedRequest) -> HttpResponse:
    user = request.user
    # The query comes in the POST body only: names and phone numbers never reach a URL.
    q = request.POST.get("q", "") if request.method == "POST" else ""
    clients = list(client_search(user=user, q=q))
    client_search_audit(user=user, q=q, clients=clients, request=request)
    context = {"q": q, "clients": clients}
    htmx = request.htmx
    # A history restore (back button after search-as-you-type) needs the whole page.
    if htmx and not htmx.history_restore_request:
        return render(request, "sessions/partials/client_results.html", context)
    return render(request, "sessions/client_search.html", context)


@role_required(Role.COUNSELOR, Role.SUPERVISOR)
def client_create_view(request: AuthedRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST" and request.POST.get("prefill"):
        # "New client <what you searched>" from the search results: posted, not in the URL.
        form = ClientCreateForm(initial={"alias": request.POST.get("alias", "")[:100]})
    elif request.method == "POST":
        form = ClientCreateForm(request.POST)
        if form.is_valid():
            fields = {name: form.cleaned_data[name] for name in CLIENT_FIELDS if name != "alias"}
            start = form.cleaned_data["start_session"] and user.is_counselor
            # New client and session in one step: both or neither.
            with transaction.atomic():
                client = client_create(
                    user=user, alias=form.cleaned_data["alias"], request=request, **fields
                )
                if start:
                    note = note_create(
                        author=user,
                        client=client,
                        modality=form.cleaned_data["modality"],
                        request=request,
                    )
            if start:
                return _session_started(request, note)
            messages.success(request, _("Client created."))
            if wants_json(request):
                # Created, with no session (a user who may not start one): where to go, so
                # session.js never takes a success for a refusal and posts the form again.
                return JsonResponse({"url": client.get_absolute_url()})
            return redirect("crisis_sessions:client_detail", client_id=client.pk)
    else:
        form = ClientCreateForm()
    return render(request, "sessions/client_form.html", {"form": form, "client": None})


@role_required(Role.COUNSELOR, Role.SUPERVISOR)
def client_edit_view(request: AuthedRequest, client_id: int) -> HttpResponse:
    user = request.user
    client = client_get(user=user, client_id=client_id)
    form = ClientForm(request.POST or None, instance=client)
    if request.method == "GET":
        # The edit form shows the whole identifying record: a read like the client page.
        audit_record(
            action=Action.VIEW,
            actor=user,
            request=request,
            obj=client,
            clinic=user.clinic,
            summary="Opened the client edit form",
        )
    if request.method == "POST" and form.is_valid():
        # The form validated against a copy; the service applies the change and audits it.
        client.refresh_from_db()
        client_update(
            user=user,
            client=client,
            request=request,
            **{name: form.cleaned_data[name] for name in CLIENT_FIELDS},
        )
        messages.success(request, _("Client updated."))
        return redirect("crisis_sessions:client_detail", client_id=client.pk)
    return render(request, "sessions/client_form.html", {"form": form, "client": client})


def _client_panels() -> list[ClientPanel]:
    """The panels the note's sections add (safety plan, disclosures) and the risk trend."""
    panels = [RISK_TREND_PANEL, *(p for s in registry.sections() for p in s.client_panels())]
    return sorted(panels, key=lambda panel: panel.order)


@role_required(*READERS)
def client_detail(request: AuthedRequest, client_id: int) -> HttpResponse:
    user = request.user
    client = client_get(user=user, client_id=client_id)
    audit_record(action=Action.VIEW, actor=user, request=request, obj=client, clinic=user.clinic)
    # The most recent TIMELINE_SHOWN sessions, then a link to all of them (`?sessions=all`): a
    # client with years of calls (600 sessions were seen on the network) made the page grow
    # without bound.
    sessions = client_timeline(
        user=user,
        client=client,
        limit=TIMELINE_SHOWN,
        show_all=request.GET.get("sessions") == "all",
    )
    timeline = [(note, can_open_note(user=user, note=note)) for note in sessions.rows]
    panels = [
        mark_safe(  # noqa: S308 — rendered by our own templates, which escape their values
            render_to_string(panel.template_name, panel.context(client, user), request=request)
        )
        for panel in _client_panels()
    ]
    return render(
        request,
        "sessions/client_detail.html",
        {
            "client": client,
            "timeline": timeline,
            "timeline_total": sessions.total,
            "followups": (
                client_open_followup_rows(user=user, client=client)
                if sessions.has_followups
                else []
            ),
            "addenda": client_addenda(user=user, client=client) if sessions.has_addenda else [],
            "panels": panels,
        },
    )


@require_POST
@role_required(Role.COUNSELOR)
def client_start_session(request: AuthedRequest, client_id: int) -> HttpResponse:
    user = request.user
    client = client_get(user=user, client_id=client_id)
    form = StartSessionForm(request.POST)
    if not form.is_valid():
        error = _("Choose how the client reached us to start the session.")
        if wants_json(request):  # said where the form is (session.js), the page kept
            return JsonResponse({"error": error}, status=400)
        messages.error(request, error)
        return redirect("crisis_sessions:client_detail", client_id=client.pk)
    note = note_create(
        author=user, client=client, modality=form.cleaned_data["modality"], request=request
    )
    return _session_started(request, note)


def _session_started(request: AuthedRequest, note: CrisisSession) -> HttpResponse:
    """The new session's note: to a script (session.js, a form marked `data-open-in-place`) its
    page in the answer, shown in place of this one; to a plain form, a redirect to it. Every
    success answers such a script in JSON (this, or where to go); a refusal is a 400 with the
    error to show by the form, or what a plain form gets (the form with its errors, a sign-in),
    which tells the script that nothing was created and that it may post the form itself."""
    if wants_json(request):
        return note_page_answer(request, note)
    return redirect("crisis_sessions:note_detail", note_id=note.pk)


urlpatterns = [
    path("clients/", client_search_view, name="client_search"),
    path("clients/new/", client_create_view, name="client_create"),
    path("clients/<int:client_id>/", client_detail, name="client_detail"),
    path("clients/<int:client_id>/edit/", client_edit_view, name="client_edit"),
    path("clients/<int:client_id>/start/", client_start_session, name="client_start_session"),
]
