"""Supervision: the supervisor's team page (home), review queue, the note under review with
co-sign and return, and the lists behind every number of the team page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.contrib import messages
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.urls import path, reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import role_required
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from crisisnotes.confirm import confirmation_page, confirmation_pending
from sessions import registry

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

from sessions.forms.review import QueueFilterForm, ReturnCommentFormSet, ReturnFormSet
from sessions.models import CrisisSession
from sessions.selectors.load import LOAD_SESSION_LISTS, team_load_session_list
from sessions.selectors.review import (
    TEAM_FOLLOWUP_LISTS,
    TEAM_SESSION_LISTS,
    awaiting_cosign_list_for_supervisor,
    note_get_for_review,
    note_returned_to_author,
    team_dashboard,
    team_followup_list,
    team_member_list,
    team_session_list,
)
from sessions.services.review import AlreadyDecided, ReviewError, note_cosign, note_return

LIST_LIMIT = 200
DEFAULT_SESSION_LIST = "high_risk"
DEFAULT_FOLLOWUP_LIST = "overdue"


def _user(request: HttpRequest) -> User:
    return request.user  # type: ignore[return-value]


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@role_required(Role.SUPERVISOR)
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request, "sessions/dashboard.html", {"board": team_dashboard(user=_user(request))}
    )


@role_required(Role.SUPERVISOR)
def review_queue(request: HttpRequest) -> HttpResponse:
    user = _user(request)
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
        {"form": form, "notes": notes[:LIST_LIMIT], "filtered": bool(counselor_id or risk)},
    )


def _render_section(request: HttpRequest, note: CrisisSession, section: Any) -> SafeString:
    """A section read-only: the note feature's read-only partial when it has one, else a plain
    list of the section row's filled fields (so review works whichever lands first)."""
    context = {"note": note, "section": section, "pdf": False}
    if section.readonly_template_name:
        try:
            context.update(section.readonly_context(note=note))
            return render_to_string(section.readonly_template_name, context, request)
        except TemplateDoesNotExist:
            pass
    row = section.row(note) if section.related_name else None
    fields = []
    if isinstance(row, models.Model):
        for field in row._meta.concrete_fields:
            if field.name in ("session", "updated_at"):
                continue
            value = getattr(row, field.name)
            if value in (None, "", [], {}):
                continue
            display = getattr(row, f"get_{field.name}_display", None)
            fields.append((str(field.verbose_name).capitalize(), display() if display else value))
    return render_to_string(
        "sessions/review/partials/section_fallback.html", {**context, "fields": fields}, request
    )


def _review_page(
    request: HttpRequest, note: CrisisSession, formset: Any = None, status: int = 200
) -> HttpResponse:
    sections = [
        {"section": section, "html": _render_section(request, note, section)}
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


def review_note(request: HttpRequest, note_id: int) -> HttpResponse:
    user = _user(request)
    note = note_get_for_review(user=user, note_id=note_id)
    audit_record(
        action=Action.VIEW, request=request, obj=note, summary="Opened the note for review"
    )
    return _review_page(request, note)


def _wants_json(request: HttpRequest) -> bool:
    return bool(getattr(request, "htmx", False)) or "application/json" in request.headers.get(
        "Accept", ""
    )


def _already_decided(request: HttpRequest, message: str) -> HttpResponse:
    """A decision that lost the race (another supervisor, tab or click decided first): 409 for
    htmx/JSON, else back to the queue with the message — never a 404, 403 or 500."""
    if _wants_json(request):
        return JsonResponse({"error": "already_decided", "message": message}, status=409)
    messages.info(request, message)
    return redirect("crisis_sessions:review_queue")


def _note_for_decision(request: HttpRequest, note_id: int) -> CrisisSession | HttpResponse:
    user = _user(request)
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


@require_POST
def review_cosign(request: HttpRequest, note_id: int) -> HttpResponse:
    user = _user(request)
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
    except ReviewError as error:
        messages.error(request, str(error))
        return redirect("crisis_sessions:review_note", note_id=note.pk)
    messages.success(
        request,
        _("Co-signed the note of %(author)s on %(client)s.")
        % {"author": note.author.display_name, "client": note.client.alias},
    )
    return redirect("crisis_sessions:review_queue")


@require_POST
def review_return(request: HttpRequest, note_id: int) -> HttpResponse:
    user = _user(request)
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
    except ReviewError as error:
        messages.error(request, str(error))
        return redirect("crisis_sessions:review_note", note_id=note.pk)
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
def team_sessions(request: HttpRequest) -> HttpResponse:
    user = _user(request)
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
def team_followups(request: HttpRequest) -> HttpResponse:
    name = request.GET.get("list") or DEFAULT_FOLLOWUP_LIST
    if name not in TEAM_FOLLOWUP_LISTS:
        raise Http404("No such list")
    user = _user(request)
    assignee_id = _int_or_none(request.GET.get("counselor"))
    assignee = None
    if assignee_id is not None:
        assignee = team_member_list(user=user).filter(pk=assignee_id).first()
        if assignee is None:
            raise Http404("Not a member of your teams")
    tasks = team_followup_list(user=user, name=name, assignee_id=assignee_id)
    title: StrOrPromise = TEAM_FOLLOWUP_LISTS[name]
    if assignee is not None:
        title = f"{title} · {assignee.display_name}"
    return render(
        request,
        "sessions/review/team_followups.html",
        {"title": title, "list_name": name, "tasks": tasks[:LIST_LIMIT]},
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
