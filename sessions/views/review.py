"""Supervision: the supervisor's team page (home), review queue, the note under review with
co-sign and return, and the lists behind every number of the team page."""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crisisnotes.accounts.models import Role
from crisisnotes.accounts.permissions import role_required
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from crisisnotes.confirm import confirmation_page, confirmation_pending
from crisisnotes.errors import refusal_as_message
from crisisnotes.http import AuthedRequest, wants_json
from sessions import registry
from sessions.forms.review import QueueFilterForm, ReturnCommentFormSet, ReturnFormSet
from sessions.models import CrisisSession
from sessions.selectors.load import LOAD_SESSION_LISTS, team_load_session_list
from sessions.selectors.review import (
    TEAM_FOLLOWUP_LISTS,
    TEAM_SESSION_LISTS,
    awaiting_cosign_list_for_supervisor,
    followup_rows,
    note_get_for_review,
    note_returned_to_author,
    queue_rows,
    team_dashboard,
    team_followup_list,
    team_member_list,
    team_session_list,
)
from sessions.services.review import AlreadyDecided, note_cosign, note_return

LIST_LIMIT = 200
DEFAULT_SESSION_LIST = "high_risk"
DEFAULT_FOLLOWUP_LIST = "overdue"


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@role_required(Role.SUPERVISOR)
def dashboard(request: AuthedRequest) -> HttpResponse:
    return render(request, "sessions/dashboard.html", {"board": team_dashboard(user=request.user)})


@role_required(Role.SUPERVISOR)
def review_queue(request: AuthedRequest) -> HttpResponse:
    user = request.user
    members = list(team_member_list(user=user).exclude(pk=user.pk))
    form = QueueFilterForm(request.GET or None, members=members)
    counselor_id = risk = None
    if form.is_valid():
        counselor_id = form.cleaned_data["counselor"]
        risk = form.cleaned_data["risk"] or None
    notes = awaiting_cosign_list_for_supervisor(user=user, counselor_id=counselor_id, risk=risk)
    return render(
        request,
        "sessions/review/queue.html",
        {
            "form": form,
            "notes": queue_rows(notes[:LIST_LIMIT]),
            "filtered": bool(counselor_id or risk),
        },
    )


def _review_page(
    request: AuthedRequest, note: CrisisSession, formset: Any = None, status: int = 200
) -> HttpResponse:
    sections = [
        {"section": section, "html": section.render_readonly(note=note, request=request)}
        for section in registry.sections()
    ]
    return render(
        request,
        "sessions/review/note.html",
        {
            "note": note,
            "sections": sections,
            "quick_notes": list(note.quick_notes.all()),
            "return_formset": formset,
        },
        status=status,
    )


def review_note(request: AuthedRequest, note_id: int) -> HttpResponse:
    user = request.user
    note = note_get_for_review(user=user, note_id=note_id)
    audit_record(
        action=Action.VIEW, request=request, obj=note, summary="Opened the note for review"
    )
    return _review_page(request, note)


def _already_decided(request: AuthedRequest, message: str) -> HttpResponse:
    """A decision that lost the race (another supervisor, tab or click decided first): 409 for
    htmx/JSON, else back to the queue with the message — never a 404, 403 or 500."""
    if wants_json(request):
        return JsonResponse({"error": "already_decided", "message": message}, status=409)
    messages.info(request, message)
    return redirect("crisis_sessions:review_queue")


def _note_for_decision(request: AuthedRequest, note_id: int) -> CrisisSession | HttpResponse:
    user = request.user
    try:
        return note_get_for_review(user=user, note_id=note_id)
    except Http404:
        # Returned meanwhile: the draft is its author's now, but this supervisor's decision
        # lost a race rather than aimed at a note that does not exist.
        if note_returned_to_author(user=user, note_id=note_id):
            return _already_decided(
                request, _("This note was already returned to its author. Nothing was changed.")
            )
        raise


def _review_note_url(request: AuthedRequest, *, note_id: int) -> str:
    return reverse("crisis_sessions:review_note", args=[note_id])


@require_POST
@refusal_as_message(back=_review_note_url)
def review_cosign(request: AuthedRequest, note_id: int) -> HttpResponse:
    user = request.user
    note = _note_for_decision(request, note_id)
    if isinstance(note, HttpResponse):
        return note
    if confirmation_pending(request):
        return confirmation_page(
            request,
            title=_("Co-sign and lock this note?"),
            message=_(
                "Your name, credential and the time are added; the note can then only be "
                "changed by addenda."
            ),
            button=_("Co-sign and lock"),
            cancel_url=reverse("crisis_sessions:review_note", args=[note.pk]),
        )
    try:
        note_cosign(note=note, supervisor=user, request=request)
    except AlreadyDecided as decided:
        return _already_decided(request, str(decided))
    messages.success(
        request,
        _("Co-signed the note of %(author)s on %(client)s.")
        % {"author": note.author.display_name, "client": note.client.alias},
    )
    return redirect("crisis_sessions:review_queue")


@require_POST
@refusal_as_message(back=_review_note_url)
def review_return(request: AuthedRequest, note_id: int) -> HttpResponse:
    user = request.user
    note = _note_for_decision(request, note_id)
    if isinstance(note, HttpResponse):
        return note
    formset = cast(ReturnCommentFormSet, ReturnFormSet(request.POST, prefix="comment"))
    if not formset.is_valid():
        return _review_page(request, note, formset=formset, status=400)
    try:
        note_return(note=note, supervisor=user, comments=formset.comments(), request=request)
    except AlreadyDecided as decided:
        return _already_decided(request, str(decided))
    messages.success(
        request,
        _(
            "Returned the note to %(author)s with your comments. It comes back to your queue "
            "when they sign again."
        )
        % {"author": note.author.display_name},
    )
    return redirect("crisis_sessions:review_queue")


@role_required(Role.SUPERVISOR)
def team_sessions(request: AuthedRequest) -> HttpResponse:
    user = request.user
    # /team/sessions/ on its own (a bookmark, a trimmed URL) opens the list a supervisor most
    # needs; a list name that does not exist is still a 404.
    name = request.GET.get("list") or DEFAULT_SESSION_LIST
    if name not in TEAM_SESSION_LISTS and name not in LOAD_SESSION_LISTS:
        raise Http404("No such list")
    counselor_id = _int_or_none(request.GET.get("counselor"))
    high_risk_only = request.GET.get("risk") == "high"
    counselor = None
    if counselor_id is not None:
        counselor = team_member_list(user=user).filter(pk=counselor_id).first()
        if counselor is None:
            raise Http404("Not a member of your teams")
    if name in LOAD_SESSION_LISTS:
        notes = team_load_session_list(user=user, name=name, counselor_id=counselor_id)
        title = LOAD_SESSION_LISTS[name]
    else:
        notes = team_session_list(
            user=user, name=name, counselor_id=counselor_id, high_risk_only=high_risk_only
        )
        title = TEAM_SESSION_LISTS[name]
    return render(
        request,
        "sessions/review/team_sessions.html",
        {
            "title": title,
            "list_name": name,
            "counselor": counselor,
            "high_risk_only": high_risk_only,
            "notes": notes[:LIST_LIMIT],
        },
    )


@role_required(Role.SUPERVISOR)
def team_followups(request: AuthedRequest) -> HttpResponse:
    name = request.GET.get("list") or DEFAULT_FOLLOWUP_LIST
    if name not in TEAM_FOLLOWUP_LISTS:
        raise Http404("No such list")
    user = request.user
    assignee_id = _int_or_none(request.GET.get("counselor"))
    assignee = None
    if assignee_id is not None:
        assignee = team_member_list(user=user).filter(pk=assignee_id).first()
        if assignee is None:
            raise Http404("Not a member of your teams")
    tasks = team_followup_list(user=user, name=name, assignee_id=assignee_id)
    title = str(TEAM_FOLLOWUP_LISTS[name])
    if assignee is not None:
        title = f"{title} · {assignee.display_name}"
    return render(
        request,
        "sessions/review/team_followups.html",
        {"title": title, "list_name": name, "tasks": followup_rows(tasks[:LIST_LIMIT])},
    )


urlpatterns = [
    path("team/", dashboard, name="dashboard"),
    path("team/queue/", review_queue, name="review_queue"),
    path("team/review/<int:note_id>/", review_note, name="review_note"),
    path("team/review/<int:note_id>/cosign/", review_cosign, name="review_cosign"),
    path("team/review/<int:note_id>/return/", review_return, name="review_return"),
    path("team/sessions/", team_sessions, name="team_sessions"),
    path("team/followups/", team_followups, name="team_followups"),
]
