"""Live supervision: the supervisor's board of contacts in progress (polled with htmx), the
read-only view of a draft the supervision rule opens, the consult reply, and the counselor's
polled list of replies on the note page."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crisisnotes.accounts.models import Role
from crisisnotes.accounts.permissions import role_required
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from crisisnotes.http import AuthedRequest
from crisisnotes.polling import STOP_POLLING, poll_endpoint
from sessions import registry
from sessions.models import CrisisSession
from sessions.selectors.supervision import (
    board_elapsed,
    consult_reply_list,
    live_board_list,
    note_get_for_consult_poll,
    note_get_for_supervision,
)
from sessions.services.supervision import MAX_REPLY_LENGTH, ConsultError, consult_reply_post


def _board_context(request: AuthedRequest) -> dict[str, object]:
    now = timezone.now()
    notes = live_board_list(user=request.user, now=now)
    # What the rows show, minute by minute: a poll that would draw the same board gets 204 and
    # htmx leaves the page alone (a keyboard user's focus stays where it is).
    shown = [
        (
            n.pk,
            n.screen_risk,
            n.clinician_risk,
            n.imminent,
            n.ended_at,
            n.consult_requested_at,
            n.replied,  # type: ignore[attr-defined]
            n.can_open,  # type: ignore[attr-defined]
            int(board_elapsed(n, now).total_seconds() // 60),
        )
        for n in notes
    ]
    return {
        "notes": notes,
        "poll_seconds": settings.LIVE_BOARD_POLL_SECONDS,
        "board_version": hashlib.sha256(repr(shown).encode()).hexdigest()[:16],
    }


@role_required(Role.SUPERVISOR)
def live_board(request: AuthedRequest) -> HttpResponse:
    # Audited when opened, not on every poll: a poll every few seconds would bury the log, and
    # the rows show no more than the page did (alias, counselor, risk, times).
    audit_record(action=Action.VIEW, request=request, summary="Opened the live board")
    return render(request, "sessions/supervision/board.html", _board_context(request))


@poll_endpoint
@role_required(Role.SUPERVISOR)
def live_board_rows(request: AuthedRequest) -> HttpResponse:
    context = _board_context(request)
    if request.GET.get("v") == context["board_version"]:
        return HttpResponse(status=204)
    return render(request, "sessions/supervision/partials/board_rows.html", context)


def _draft_version(note: CrisisSession) -> str:
    """Changes whenever what the read-only view shows changes: every autosave, quick note and
    risk refresh bumps the version or the edit time; the consult request is stamped alone."""
    return f"{note.version}-{note.updated_at.timestamp()}-{note.consult_requested_at}"


def _draft_context(request: AuthedRequest, note: CrisisSession) -> dict[str, object]:
    return {
        "note": note,
        "sections": [
            {"section": section, "html": section.render_readonly(note=note, request=request)}
            for section in registry.sections()
        ],
        "quick_notes": list(note.quick_notes.all()),
        "draft_version": _draft_version(note),
    }


def _supervise_page(
    request: AuthedRequest,
    note: CrisisSession,
    *,
    reply_text: str = "",
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    return render(
        request,
        "sessions/supervision/note.html",
        {
            **_draft_context(request, note),
            "replies": consult_reply_list(note=note),
            "reply_text": reply_text,
            "error": error,
            "max_reply_length": MAX_REPLY_LENGTH,
        },
        status=status,
    )


@role_required(Role.SUPERVISOR)
def supervise_note(request: AuthedRequest, note_id: int) -> HttpResponse:
    note = note_get_for_supervision(user=request.user, note_id=note_id)
    audit_record(
        action=Action.SUPERVISE_VIEW,
        request=request,
        obj=note,
        summary="Viewed draft (supervision): contact in progress",
    )
    return _supervise_page(request, note)


@poll_endpoint
@role_required(Role.SUPERVISOR)
def supervise_note_content(request: AuthedRequest, note_id: int) -> HttpResponse:
    """The read-only view's content, polled: 204 while the draft is unchanged; the new content,
    audited as another supervision view, when it changed; STOP_POLLING once the rule no longer
    opens it (signed, risk lowered), leaving the last content on the page."""
    try:
        note = note_get_for_supervision(user=request.user, note_id=note_id)
    except Http404:
        return HttpResponse(status=STOP_POLLING)
    if request.GET.get("v") == _draft_version(note):
        return HttpResponse(status=204)
    audit_record(
        action=Action.SUPERVISE_VIEW,
        request=request,
        obj=note,
        summary="Viewed draft (supervision): content updated while open",
    )
    return render(
        request,
        "sessions/supervision/partials/draft_content.html",
        _draft_context(request, note),
    )


@require_POST
@role_required(Role.SUPERVISOR)
def supervise_reply(request: AuthedRequest, note_id: int) -> HttpResponse:
    user = request.user
    note = note_get_for_supervision(user=user, note_id=note_id)
    text = request.POST.get("text", "")
    try:
        consult_reply_post(supervisor=user, note=note, text=text, request=request)
    except ConsultError as error:
        # Shown again with what was typed: a refused reply never loses the text.
        return _supervise_page(request, note, reply_text=text, error=str(error), status=400)
    messages.success(request, _("Reply sent to %(name)s.") % {"name": note.author.display_name})
    return redirect("crisis_sessions:supervise_note", note_id=note.pk)


@poll_endpoint
@role_required(Role.COUNSELOR)
def note_consult_replies(request: AuthedRequest, note_id: int) -> HttpResponse:
    """The author's polled list of consult replies. `?seen=N` is how many the page shows: when
    nothing new arrived the answer is 204 and htmx leaves the page alone (no flicker, no
    screen-reader repeat)."""
    note = note_get_for_consult_poll(user=request.user, note_id=note_id)
    replies = consult_reply_list(note=note)
    seen = request.GET.get("seen", "")
    if seen.isdigit() and int(seen) == len(replies):
        return HttpResponse(status=204)
    return render(
        request,
        "sessions/supervision/partials/consult_replies.html",
        {"note": note, "replies": replies, "poll": note.is_draft},
    )


urlpatterns = [
    path("team/live/", live_board, name="live_board"),
    path("team/live/rows/", live_board_rows, name="live_board_rows"),
    path("team/live/<int:note_id>/", supervise_note, name="supervise_note"),
    path("team/live/<int:note_id>/content/", supervise_note_content, name="supervise_note_content"),
    path("team/live/<int:note_id>/reply/", supervise_reply, name="supervise_reply"),
    path("notes/<int:note_id>/consult/", note_consult_replies, name="note_consult_replies"),
]
