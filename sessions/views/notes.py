"""The one-page note: edit a draft (autosave or plain POST), end the session, copy forward,
quick notes, sign; read a locked note and add addenda."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import role_required
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from crisisnotes.confirm import confirmation_page, confirmation_pending
from crisisnotes.http import AuthedRequest, wants_json
from crisisnotes.prepared import read_ahead
from sessions import registry
from sessions.exceptions import (
    AddendumError,
    NoteAlreadySigned,
    NoteConflict,
    NoteError,
    NoteInvalid,
    NoteLocked,
    SignRefused,
)
from sessions.forms.notes import AddendumForm, ProcessNoteForm, QuickNoteForm
from sessions.models import CrisisSession
from sessions.models.notes import AddendumKind
from sessions.policies import can_add_addendum
from sessions.registry import Completion, SignProblem
from sessions.sections import HEADER
from sessions.selectors.followups import followup_assignee_choices, followup_assignee_names
from sessions.selectors.notes import (
    last_signed_session,
    note_addenda,
    note_edit_page_ahead,
    note_get_for_edit,
    note_get_for_view,
    note_get_visible,
    note_handoffs,
    note_readonly_page_ahead,
    process_note_for_author,
)
from sessions.selectors.snippets import snippets_for_note
from sessions.services.addenda import addendum_add
from sessions.services.followups import followup_contact_record
from sessions.services.notes import (
    note_autosave,
    note_copy_forward,
    note_end,
    note_forms,
    note_handoff,
    process_note_save,
    quick_note_add,
)
from sessions.services.signing import (
    note_end_and_sign,
    note_save_and_sign,
    note_sign,
    note_sign_problems,
)

READERS = (Role.COUNSELOR, Role.SUPERVISOR, Role.CLINIC_ADMIN)


def _is_autosave(request: AuthedRequest) -> bool:
    return request.headers.get("X-Autosave") == "1"


def _local_time(value: Any, fmt: str) -> str:
    return timezone.localtime(value).strftime(fmt) if value else ""


def _stage_status(
    note: CrisisSession, stages: list[str] | None = None
) -> dict[str, dict[str, str]]:
    """Each stage's completion for the autosave answer, with its badge and "last edited" line
    rendered by the very partials the page uses: note.js swaps them in and holds no copy of
    their texts or rules. With `stages` (a partial save) only those: a section's badge and
    edit time come from its own rows, which nothing else in the save writes."""
    status = {}
    for section in registry.sections():
        if stages is not None and section.key not in stages:
            continue
        completion = str(section.completion(note=note))
        last_edited = section.last_edited(note=note)
        context = {"completion": completion, "last_edited": last_edited}
        status[section.key] = {
            "completion": completion,
            "last_edited": _local_time(last_edited, "%H:%M"),
            "badge_html": render_to_string("sessions/partials/completion_badge.html", context),
            "edited_html": render_to_string("sessions/partials/last_edited.html", context),
        }
    return status


def _stages_edit(
    request: AuthedRequest,
    note: CrisisSession,
    bound: dict[str, list[forms.BaseForm]],
    problems: list[SignProblem],
) -> list[dict[str, Any]]:
    stages = []
    for number, section in enumerate(registry.sections(), start=1):
        section_forms = bound[section.key]
        context = {
            "note": note,
            "section": section,
            "forms": section_forms,
            "completion": section.completion(note=note),
            "last_edited": section.last_edited(note=note),
            "problems": [p for p in problems if p.section == section.key],
            **section.edit_context(note=note, forms=section_forms),
        }
        stages.append(
            {
                "number": number,
                "section": section,
                "completion": context["completion"],
                "last_edited": context["last_edited"],
                "body": mark_safe(  # noqa: S308 — our templates, autoescaped
                    render_to_string(section.template_name, context, request=request)
                ),
            }
        )
    return stages


def _handoff_options(user: User, counselors: QuerySet[User]) -> SafeString:
    """The "Hand this draft to" select's options: the colleagues a draft can go to, by name
    (40 of them in a clinic: written here rather than by a template loop of 80 nodes), from
    `followup_assignee_names` as read for the follow-up form (one read for both lists)."""
    return format_html_join(
        "",
        '<option value="{}">{}</option>',
        ((c.pk, c.display_name) for c in counselors if c.pk != user.pk),
    )


def _render_edit(
    request: AuthedRequest,
    note: CrisisSession,
    *,
    bound: dict[str, list[forms.BaseForm]] | None = None,
    problems: list[SignProblem] | None = None,
    conflict: NoteConflict | None = None,
    status: int = 200,
) -> HttpResponse:
    # The page's reads after the note's, sent together (one round trip instead of ~15); the
    # render below takes their rows as each selector asks (crisisnotes/prepared.py).
    with read_ahead(note_edit_page_ahead(user=request.user, note=note)):
        return _render_edit_page(
            request, note, bound=bound, problems=problems, conflict=conflict, status=status
        )


def _render_edit_page(
    request: AuthedRequest,
    note: CrisisSession,
    *,
    bound: dict[str, list[forms.BaseForm]] | None,
    problems: list[SignProblem] | None,
    conflict: NoteConflict | None,
    status: int,
) -> HttpResponse:
    user = request.user
    bound = bound or note_forms(note=note)
    problems = problems or []
    source = last_signed_session(user=user, note=note)
    stages = _stages_edit(request, note, bound, problems)
    quick_notes = list(note.quick_notes.all())
    assignees = followup_assignee_names(user=user)
    return render(
        request,
        "sessions/note_edit.html",
        {
            "note": note,
            "header": bound[HEADER][0],
            "stages": stages,
            # Nothing written yet: note.js puts the focus in the first stage.
            "fresh": not problems
            and conflict is None
            and not quick_notes
            and all(stage["completion"] == Completion.EMPTY for stage in stages),
            "problems": problems,
            "header_problems": [p for p in problems if p.section == HEADER],
            "conflict": conflict,
            "base_version": conflict.base_version if conflict else note.version,
            "invalid": any(f.errors for fs in bound.values() for f in fs),
            "copy_source": source,
            "quick_form": QuickNoteForm(),
            "quick_notes": quick_notes,
            "process_note": process_note_for_author(user=user, note=note),
            "snippets": snippets_for_note(user=user),
            "handoff_options": _handoff_options(user, assignees),
            "assignees": assignees,
            "handoffs": note_handoffs(note=note),
        },
        status=status,
    )


def _render_readonly(
    request: AuthedRequest,
    note: CrisisSession,
    *,
    addendum_form: AddendumForm | None = None,
    unsaved: list[tuple[str, str]] | None = None,
    status: int | None = None,
) -> HttpResponse:
    # The page's reads after the note's, sent together (crisisnotes/prepared.py), as the
    # draft's page does.
    with read_ahead(note_readonly_page_ahead(user=request.user, note=note)):
        return _render_readonly_page(
            request, note, addendum_form=addendum_form, unsaved=unsaved, status=status
        )


def _render_readonly_page(
    request: AuthedRequest,
    note: CrisisSession,
    *,
    addendum_form: AddendumForm | None,
    unsaved: list[tuple[str, str]] | None,
    status: int | None,
) -> HttpResponse:
    user = request.user
    stages = []
    for number, section in enumerate(registry.sections(), start=1):
        stages.append(
            {
                "number": number,
                "section": section,
                "body": section.render_readonly(note=note, request=request),
            }
        )
    addenda = note_addenda(note=note)
    return render(
        request,
        "sessions/note_readonly.html",
        {
            "note": note,
            "stages": stages,
            "addenda": addenda,
            "entered_in_error": any(a.kind == AddendumKind.ENTERED_IN_ERROR for a in addenda),
            "quick_notes": list(note.quick_notes.all()),
            "addendum_form": (addendum_form or AddendumForm())
            if can_add_addendum(user=user, note=note)
            else None,
            "is_author": note.author_id == user.pk,
            "process_note": process_note_for_author(user=user, note=note),
            "handoffs": note_handoffs(note=note),
            "unsaved": unsaved or [],
        },
        status=status or (400 if addendum_form is not None and addendum_form.errors else 200),
    )


@role_required(*READERS)
def note_detail(request: AuthedRequest, note_id: int) -> HttpResponse:
    return _note_page(request, note_id)


def _note_page(request: AuthedRequest, note_id: int) -> HttpResponse:
    """The note's page as its reader gets it: read with the access check, the view audited,
    the draft's form or the signed record."""
    user = request.user
    note = note_get_for_view(user=user, note_id=note_id)
    audit_record(action=Action.VIEW, actor=user, request=request, obj=note, clinic=note.clinic)
    if note.is_draft:
        # ?sign=1: where a refused signature lands (Post/Redirect/Get), the unmet rules
        # recomputed from the saved draft, so a reload shows the current list, never re-POSTs.
        wants_problems = request.GET.get("sign") == "1" and note.author_id == user.pk
        problems = note_sign_problems(note) if wants_problems else None
        return _render_edit(request, note, problems=problems)
    return _render_readonly(request, note)


def note_page_answer(request: AuthedRequest, note: CrisisSession, **extra: Any) -> JsonResponse:
    """For a script that shows the note's page in place of the one it was asked from
    (session.js's `crisisnotesShowPage`: the signed note after "End session and sign", the new
    session's draft after "Start session"): the note's address and its page exactly as its GET
    gives it (and audited as that view), so one request is all, with no page load after it."""
    page = _note_page(request, note.pk).content.decode()
    return JsonResponse({**extra, "url": note.get_absolute_url(), "page": page})


def _base_version(request: AuthedRequest) -> int:
    try:
        return int(request.POST.get("version", ""))
    except ValueError:
        return -1


class _Refused(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _unsaved_text(note: CrisisSession, data: Any) -> list[tuple[str, str]]:
    """(label, text) of every posted field that differs from the stored note: what a page that
    arrived too late (the note was signed meanwhile) would otherwise lose."""
    unsaved = []
    for section_forms in note_forms(note=note, data=data).values():
        for form in section_forms:
            for name in form.changed_data:
                value = form[name].data
                if isinstance(value, list | tuple):
                    value = ", ".join(str(v) for v in value if v not in (None, ""))
                text = "" if value is None else str(value)
                if text.strip():
                    unsaved.append((str(form[name].label or name), text))
    return unsaved


def _locked_answer(request: AuthedRequest, note: CrisisSession, message: str = "") -> HttpResponse:
    """The answer to a write into the author's note that has left draft, typically because the
    other tab (or a first click) signed it: 409, never a 403 or a 500. JSON/htmx callers get the
    message; a page post gets the signed note back with every field it posted that differs from
    the record shown as "not saved" text to copy (into an addendum if it belongs in the record),
    or — when it posted nothing new — a redirect to the note with the message."""
    if not message:
        message = str(NoteAlreadySigned(signed_at=note.signed_at, status=note.status))
    if wants_json(request):
        return JsonResponse(
            {
                "error": "locked",
                "message": _(
                    "%(message)s Your text is still on this page and was not saved: copy what "
                    "belongs in the record into an addendum."
                )
                % {"message": message},
            },
            status=409,
        )
    unsaved = _unsaved_text(note, request.POST) if request.POST else []
    if unsaved:
        messages.warning(request, message)
        return _render_readonly(request, note, unsaved=unsaved, status=409)
    messages.info(request, message)
    return redirect("crisis_sessions:note_detail", note_id=note.pk)


def _draft_for_post(request: AuthedRequest, note_id: int) -> CrisisSession:
    """The author's draft to write to (its row: the services lock and re-read it). When it has
    left draft (signed in another tab, or by a first click) raise _Refused with the "already
    signed" answer rather than a bare 403."""
    user = request.user
    try:
        return note_get_for_edit(user=user, note_id=note_id, page=False)
    except PermissionDenied:
        note = note_get_for_view(user=user, note_id=note_id)
        if note.author_id != user.pk or note.is_draft:
            raise
        raise _Refused(_locked_answer(request, note)) from None


def _refusal(request: AuthedRequest, note: CrisisSession, error: NoteError) -> _Refused:
    """The answer to a refused save of the posted page (conflict, invalid input, or the note
    left draft meanwhile), the typed text kept."""
    user = request.user
    if isinstance(error, NoteLocked):
        return _Refused(_locked_answer(request, note_get_for_view(user=user, note_id=note.pk)))
    if isinstance(error, NoteConflict):
        # Unvalidated bound forms: they show exactly what was typed, and validating would write
        # it into the (stale) instances. The page keeps the old base version, so saving again
        # conflicts again until the counselor loads the latest.
        fresh = note_get_for_edit(user=user, note_id=note.pk)
        return _Refused(
            _render_edit(
                request,
                fresh,
                bound=note_forms(note=note, data=request.POST),
                conflict=error,
                status=409,
            )
        )
    assert isinstance(error, NoteInvalid)
    fresh = note_get_for_edit(user=user, note_id=note.pk)
    return _Refused(_render_edit(request, fresh, bound=error.forms, status=400))


def _save_posted(request: AuthedRequest, note: CrisisSession) -> CrisisSession:
    """Save the posted draft (every action form posts the whole page); on conflict or invalid
    input answer with the page again, the typed text kept in its fields."""
    user = request.user
    try:
        return note_autosave(
            note=note,
            user=user,
            base_version=_base_version(request),
            data=request.POST,
            request=request,
        )
    except (NoteConflict, NoteInvalid, NoteLocked) as error:
        raise _refusal(request, note, error) from error


@require_POST
@role_required(Role.COUNSELOR)
def note_save(request: AuthedRequest, note_id: int) -> HttpResponse:
    if _is_autosave(request):
        return _autosave_json(request, note_id)
    try:
        note = _save_posted(request, _draft_for_post(request, note_id))
    except _Refused as refused:
        return refused.response
    messages.success(
        request, _("Saved %(time)s.") % {"time": _local_time(timezone.now(), "%H:%M:%S")}
    )
    return redirect("crisis_sessions:note_detail", note_id=note.pk)


def _posted_stages(request: AuthedRequest) -> list[str] | None:
    """The stages an autosave carries when note.js posts only what changed since its last
    confirmed save (`stages`, one per stage, each with all of its fields; a single empty one
    when nothing changed); None when the whole page is posted."""
    if "stages" not in request.POST:
        return None
    return [key for key in request.POST.getlist("stages") if key]


def _autosave_json(request: AuthedRequest, note_id: int) -> HttpResponse:
    """The autosave answer for note.js: 200 with the new version and stage states, 409 on a
    version conflict or once the note left draft ("locked"), 400 with field errors, 403 for
    someone else's note. A partial save (`stages`) writes only the stages it names."""
    user = request.user
    stages = _posted_stages(request)
    try:
        # By id: note_autosave locks the author's own note and reads it under the lock, so no
        # read of it comes first; anyone else's note is refused there, before anything is read.
        note = note_autosave(
            note=note_id,
            user=user,
            base_version=_base_version(request),
            data=request.POST,
            request=request,
            stages=stages,
        )
    except PermissionDenied:
        # Not the user's note: 404 when they may not see it at all, 403 when they may.
        if note_get_visible(user=user, note_id=note_id).author_id == user.pk:
            raise
        return JsonResponse(
            {"error": "forbidden", "message": _("Only the author edits a draft.")}, status=403
        )
    except NoteConflict as conflict:
        return JsonResponse(
            {
                "error": "conflict",
                "message": str(conflict),
                "current_version": conflict.current_version,
            },
            status=409,
        )
    except NoteInvalid as invalid:
        return JsonResponse(
            {"error": "invalid", "message": str(invalid), "errors": invalid.errors}, status=400
        )
    except NoteLocked:
        # Signed meanwhile (the other tab): a conflict, not a permission problem. Nothing was
        # saved; note.js keeps the typed text on the page and says so.
        return _locked_answer(request, note_get_for_view(user=user, note_id=note_id))
    body: dict[str, Any] = {
        "version": note.version,
        "saved_at": _local_time(timezone.now(), "%H:%M:%S"),
        "stages": _stage_status(note, stages),
    }
    if request.headers.get("X-Sign-Check") == "1":
        # The page shows the unmet sign rules: keep the list current as fields are filled.
        body["problems"] = _problems_json(note_sign_problems(note))
    return JsonResponse(body)


def _problems_json(problems: list[SignProblem]) -> list[dict[str, str]]:
    return [
        {"message": p.message, "field_id": p.field_id, "section": p.section, "code": p.code}
        for p in problems
    ]


@require_POST
@role_required(Role.COUNSELOR)
def note_end_view(request: AuthedRequest, note_id: int) -> HttpResponse:
    user = request.user
    try:
        note = _save_posted(request, _draft_for_post(request, note_id))
        note_end(note=note, user=user, base_version=note.version, request=request)
    except _Refused as refused:
        return refused.response
    except (NoteConflict, NoteLocked) as error:
        # Another tab saved or signed between this page's save and the end time.
        return _refusal(request, note, error).response
    messages.success(request, _("Session ended; the end time is set."))
    return redirect("crisis_sessions:note_detail", note_id=note.pk)


@require_POST
@role_required(Role.COUNSELOR)
def note_copy_forward_view(request: AuthedRequest, note_id: int) -> HttpResponse:
    user = request.user
    try:
        note = _save_posted(request, _draft_for_post(request, note_id))
        note, source = note_copy_forward(
            note=note, user=user, base_version=note.version, request=request
        )
    except _Refused as refused:
        return refused.response
    except NoteError as error:
        messages.error(request, str(error))
        return redirect("crisis_sessions:note_detail", note_id=note_id)
    messages.info(
        request,
        _(
            "Copied forward from the session of %(date)s: supports, triggers, resources given "
            "and referrals. Review them in Rapport and Follow-up."
        )
        % {"date": _local_time(source.started_at, "%Y-%m-%d")},
    )
    return redirect("crisis_sessions:note_detail", note_id=note.pk)


def _signed_message(request: AuthedRequest, note: CrisisSession) -> None:
    # A follow-up contact updates the task it answers once it is record (after the signature's
    # transaction: signing never fails because of the task).
    followup_contact_record(note=note, actor=request.user, request=request)
    if note.status == "awaiting_cosign":
        messages.success(
            request,
            _("Signed. The note now waits for a supervisor's co-signature (%(reason)s).")
            % {"reason": note.cosign_required_reason},
        )
    else:
        messages.success(request, _("Signed and locked."))


@require_POST
@role_required(Role.COUNSELOR)
def note_sign_view(request: AuthedRequest, note_id: int) -> HttpResponse:
    """Sign (the page posts its form, or only the stages named in `stages` as end-and-sign does:
    save and sign in one transaction). Exactly one of two concurrent sign requests signs; the
    other gets the "already signed" answer."""
    user = request.user
    try:
        note = _draft_for_post(request, note_id)
        if confirmation_pending(request):
            # No JavaScript: what was typed is saved first; the page asks, then signs.
            if "version" in request.POST:
                note = _save_posted(request, note)
            return _sign_confirmation(
                request, note, title=_("Sign this note?"), button=_("Sign note")
            )
        if "version" in request.POST:
            note = note_save_and_sign(
                note=note,
                user=user,
                base_version=_base_version(request),
                data=request.POST,
                request=request,
                stages=_posted_stages(request),
            )
        else:
            note = note_sign(note=note, user=user, request=request)
    except _Refused as refused:
        return refused.response
    except (NoteConflict, NoteInvalid, NoteLocked) as error:
        return _refusal(request, note, error).response
    except SignRefused:
        # Redirect, don't render: the note page stays at its own URL and a reload does not post
        # the sign form again. The page lists the unmet rules and focuses that list (note.js).
        return redirect(f"{note.get_absolute_url()}?sign=1#sign-problems")
    _signed_message(request, note)
    return redirect("crisis_sessions:note_detail", note_id=note.pk)


def _sign_confirmation(
    request: AuthedRequest, note: CrisisSession, *, title: str, button: str
) -> HttpResponse:
    """The no-JavaScript question before "Sign note" or "End session and sign" (the buttons'
    data-confirm-detail in note_edit.html says the same)."""
    return confirmation_page(
        request,
        title=title,
        message=_(
            "Every required item is checked first. Once signed the note is locked "
            "(or goes to your supervisor for co-signature); corrections are addenda."
        ),
        button=button,
        cancel_url=note.get_absolute_url(),
    )


@require_POST
@role_required(Role.COUNSELOR)
def note_end_sign_view(request: AuthedRequest, note_id: int) -> HttpResponse:
    """ "End session and sign" in one action: save what the page posted, stop the clock (kept if
    already stopped), sign. Signed: for note.js, JSON with the signed note's page (shown in place
    of the draft); for a plain POST, a redirect to it. Refused: the unmet rules as JSON for
    note.js (it lists them in place and keeps the list current), or the note page with the
    list for a plain POST."""
    user = request.user
    json_answer = "application/json" in request.headers.get("Accept", "")
    try:
        note = _draft_for_post(request, note_id)
        if confirmation_pending(request):
            # No JavaScript: what was typed is saved first; the page asks, then ends and signs.
            if "version" in request.POST:
                note = _save_posted(request, note)
            return _sign_confirmation(
                request,
                note,
                title=_("End the session and sign this note?"),
                button=_("End session and sign"),
            )
        if "version" in request.POST:
            # Save, stop the clock and sign under one lock, as "Sign note" does. note.js posts
            # only the stages that differ from its last confirmed save (`stages`), as an
            # autosave does; a plain POST, the whole page.
            note = note_save_and_sign(
                note=note,
                user=user,
                base_version=_base_version(request),
                data=request.POST,
                request=request,
                end=True,
                stages=_posted_stages(request),
            )
        else:
            note = note_end_and_sign(note=note, user=user, request=request)
    except _Refused as refused:
        if json_answer:
            return JsonResponse({"error": "not saved", "reload": True}, status=409)
        return refused.response
    except (NoteConflict, NoteInvalid, NoteLocked) as error:
        # Not saved (a conflict, an invalid field), or signed in another tab (or by a first
        # click) meanwhile: note.js reloads, the page says which; a plain POST gets that page.
        if json_answer:
            return JsonResponse({"error": "not saved", "reload": True}, status=409)
        return _refusal(request, note, error).response
    except SignRefused as refusal:
        if json_answer:
            fresh = note_get_for_view(user=user, note_id=note.pk)
            return JsonResponse(
                {
                    "signed": False,
                    "version": fresh.version,
                    "ended_at": _local_time(fresh.ended_at, "%Y-%m-%dT%H:%M"),
                    "problems": _problems_json(refusal.problems),
                    # Saved before the refusal: the badges follow what it wrote.
                    "stages": _stage_status(fresh),
                },
                status=422,
            )
        return redirect(f"{note.get_absolute_url()}?sign=1#sign-problems")
    _signed_message(request, note)
    if json_answer:
        return note_page_answer(request, note, signed=True)
    return redirect("crisis_sessions:note_detail", note_id=note.pk)


@require_POST
@role_required(Role.COUNSELOR)
def note_handoff_view(request: AuthedRequest, note_id: int) -> HttpResponse:
    """Shift handoff: save what the page posted, then hand the draft to the chosen colleague."""
    user = request.user
    note = note_get_for_edit(user=user, note_id=note_id)
    try:
        to_user = followup_assignee_choices(user=user).get(pk=int(request.POST["handoff_to"]))
    except (KeyError, ValueError, User.DoesNotExist):
        messages.error(request, _("Choose the colleague to hand this draft to."))
        return redirect("crisis_sessions:note_detail", note_id=note.pk)
    try:
        if "version" in request.POST:
            note = _save_posted(request, note)
        handoff = note_handoff(note=note, user=user, to_user=to_user, request=request)
    except _Refused as refused:
        return refused.response
    except NoteError as error:
        messages.error(request, str(error))
        return redirect("crisis_sessions:note_detail", note_id=note.pk)
    messages.success(
        request,
        _(
            "Handed to %(name)s at %(time)s: the draft is theirs now (your text up to now is "
            "saved in it)."
        )
        % {"name": handoff.to_name, "time": _local_time(handoff.handed_at, "%H:%M")},
    )
    return redirect("crisis_sessions:my_work")


@require_POST
@role_required(Role.COUNSELOR)
def quick_note_view(request: AuthedRequest, note_id: int) -> HttpResponse:
    user = request.user
    try:
        note = _draft_for_post(request, note_id)
    except _Refused as refused:
        return refused.response
    form = QuickNoteForm(request.POST)
    if form.is_valid():
        try:
            quick_note_add(note=note, user=user, text=form.cleaned_data["text"], request=request)
        except NoteLocked:
            return _locked_answer(request, note_get_for_view(user=user, note_id=note_id))
        except NoteError as error:
            form.add_error("text", str(error))
    if request.htmx:
        return render(
            request,
            "sessions/partials/quick_notes.html",
            {
                "note": note,
                "quick_form": form if form.errors else QuickNoteForm(),
                "quick_notes": list(note.quick_notes.order_by("created_at", "id")),
                "editable": True,
            },
        )
    if form.errors:
        reason = " ".join(str(m) for m in form.errors.get("text", [])) or _("it was empty")
        messages.error(
            request, _("Nothing added to the quick notes: %(reason)s") % {"reason": reason}
        )
    return redirect("crisis_sessions:note_detail", note_id=note.pk)


@require_POST
@role_required(Role.COUNSELOR, Role.SUPERVISOR)
def addendum_view(request: AuthedRequest, note_id: int) -> HttpResponse:
    user = request.user
    note = note_get_for_view(user=user, note_id=note_id)
    form = AddendumForm(request.POST)
    if form.is_valid():
        try:
            addendum_add(
                note=note,
                user=user,
                kind=form.cleaned_data["kind"],
                text=form.cleaned_data["text"],
                reason=form.cleaned_data["reason"],
                request=request,
            )
        except ValidationError as error:
            form.add_error(None, error)
        except AddendumError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Addendum added."))
            return redirect(f"{note.get_absolute_url()}#addenda")
    return _render_readonly(request, note, addendum_form=form)


@require_POST
@role_required(Role.COUNSELOR)
def process_note_view(request: AuthedRequest, note_id: int) -> HttpResponse:
    user = request.user
    note = note_get_for_view(user=user, note_id=note_id)
    if note.author_id != user.pk:
        raise PermissionDenied
    form = ProcessNoteForm(request.POST)
    if not form.is_valid():
        # Nothing saved; the typed text comes back in the box with the reason (a 200, like
        # the quick note's: htmx swaps only successful answers).
        error = " ".join(str(m) for m in form.errors.get("text", []))
        if request.htmx:
            return render(
                request,
                "sessions/partials/process_note.html",
                {"note": note, "typed_text": request.POST.get("text", ""), "error": error},
            )
        messages.error(request, _("Private process note not saved: %(error)s") % {"error": error})
        return redirect("crisis_sessions:note_detail", note_id=note.pk)
    process = process_note_save(
        note=note, user=user, text=form.cleaned_data["text"], request=request
    )
    if request.htmx:
        return render(
            request, "sessions/partials/process_note.html", {"note": note, "process_note": process}
        )
    messages.success(request, _("Private process note saved."))
    return redirect("crisis_sessions:note_detail", note_id=note.pk)


urlpatterns = [
    path("notes/<int:note_id>/", note_detail, name="note_detail"),
    path("notes/<int:note_id>/save/", note_save, name="note_save"),
    path("notes/<int:note_id>/end/", note_end_view, name="note_end"),
    path("notes/<int:note_id>/copy-forward/", note_copy_forward_view, name="note_copy_forward"),
    path("notes/<int:note_id>/sign/", note_sign_view, name="note_sign"),
    path("notes/<int:note_id>/end-and-sign/", note_end_sign_view, name="note_end_sign"),
    path("notes/<int:note_id>/handoff/", note_handoff_view, name="note_handoff"),
    path("notes/<int:note_id>/quick-notes/", quick_note_view, name="note_quick_note"),
    path("notes/<int:note_id>/addenda/", addendum_view, name="note_addendum"),
    path("notes/<int:note_id>/process-note/", process_note_view, name="note_process_note"),
]
