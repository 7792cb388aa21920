"""Follow-up tasks: added in the note's Follow-up section (htmx), attempts logged and tasks
closed from the counselor's home or the note."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crisisnotes.accounts.models import Role, User
from crisisnotes.accounts.permissions import role_required
from crisisnotes.errors import refusal_as_message
from crisisnotes.http import AuthedRequest
from sessions.forms.followups import FollowUpAttemptForm, FollowUpCloseForm, FollowUpTaskForm
from sessions.models import FollowUpTask
from sessions.selectors.followups import (
    followup_assignee_choices,
    followup_assignee_names,
    followup_get_for_action,
    followup_list_for_note,
)
from sessions.selectors.notes import note_get_for_edit
from sessions.services.followups import (
    FollowUpError,
    followup_attempt_log,
    followup_close,
    followup_default_due,
    followup_task_create,
)


def note_tasks_context(
    *,
    user: User,
    note: object,
    editable: bool,
    form: FollowUpTaskForm | None = None,
    counselors: QuerySet[User] | None = None,
) -> dict[str, object]:
    """Context of templates/sessions/followups/partials/note_tasks.html (also used by its
    template tag, so the note page and the htmx answer render the same thing). `counselors`:
    `followup_assignee_names` if the caller read it already (the note page's handoff list)."""
    from sessions.models import CrisisSession

    assert isinstance(note, CrisisSession)
    context: dict[str, object] = {
        "note": note,
        "editable": editable,
        "tasks": list(followup_list_for_note(user=user, note_id=note.pk)),
    }
    if editable:
        if form is None:
            due = followup_default_due(note=note)
            form = FollowUpTaskForm(
                counselors=counselors
                if counselors is not None
                else followup_assignee_names(user=user),
                initial={"due_at": due, "assigned_to": note.author_id},
                prefix="followup",
            )
        context["task_form"] = form
    return context


@require_POST
@role_required(Role.COUNSELOR)
def followup_add(request: AuthedRequest, note_id: int) -> HttpResponse:
    user = request.user
    # The draft's own row (404 / 403 as for the page), not the page's 13-table read and quick
    # notes: adding a task and rendering the panel use the row's columns only (its risk, times,
    # author, client id).
    note = note_get_for_edit(user=user, note_id=note_id, page=False)
    form = FollowUpTaskForm(
        request.POST, counselors=followup_assignee_choices(user=user), prefix="followup"
    )
    error = ""
    if form.is_valid():
        try:
            followup_task_create(
                actor=user,
                note=note,
                assigned_to=form.cleaned_data["assigned_to"],
                method=form.cleaned_data["method"],
                due_at=form.cleaned_data["due_at"],
                purpose=form.cleaned_data["purpose"],
                request=request,
            )
            form = None  # type: ignore[assignment]  # a fresh form for the next task
        except FollowUpError as exc:
            error = str(exc)
    if not request.htmx:
        if error or (form is not None and form.errors):
            messages.error(request, error or _("The follow-up was not added: check its fields."))
        return redirect(note.get_absolute_url() + "#follow-up-tasks")
    context = note_tasks_context(user=user, note=note, editable=True, form=form)
    context["error"] = error
    return render(request, "sessions/followups/partials/note_tasks_body.html", context)


def _back(request: AuthedRequest) -> HttpResponse:
    return redirect(_back_url(request))


def _back_url(request: AuthedRequest, **kwargs: object) -> str:
    """The page the action came from (its "next" field, if ours), else My work."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("crisis_sessions:my_work")
    return target


def _task_action(
    request: AuthedRequest,
    task_id: int,
    *,
    form_class: type[forms.Form],
    prefix: str,
    refused: str,
    act: Callable[[FollowUpTask, dict[str, Any]], str],
) -> HttpResponse:
    """What each button on a follow-up task does: the task (access-checked), its form under the
    task's own prefix (a page lists many tasks), `act` on the valid data, the message it returns
    (or `refused` for invalid data), back to the page the button was on."""
    task = followup_get_for_action(user=request.user, task_id=task_id)
    form = form_class(request.POST, prefix=f"{prefix}-{task.pk}")
    if not form.is_valid():
        messages.error(request, refused)
        return _back(request)
    messages.success(request, act(task, form.cleaned_data))
    return _back(request)


@require_POST
@role_required(Role.COUNSELOR, Role.SUPERVISOR)
@refusal_as_message(back=_back_url)
def followup_attempt(request: AuthedRequest, task_id: int) -> HttpResponse:
    def log(task: FollowUpTask, data: dict[str, Any]) -> str:
        attempt = followup_attempt_log(actor=request.user, task=task, request=request, **data)
        return _("Attempt logged: %(outcome)s.") % {"outcome": attempt.get_outcome_display()}

    return _task_action(
        request,
        task_id,
        form_class=FollowUpAttemptForm,
        prefix="attempt",
        refused=_("The attempt was not logged: choose the method and outcome."),
        act=log,
    )


@require_POST
@role_required(Role.COUNSELOR, Role.SUPERVISOR)
@refusal_as_message(back=_back_url)
def followup_close_view(request: AuthedRequest, task_id: int) -> HttpResponse:
    def close(task: FollowUpTask, data: dict[str, Any]) -> str:
        followup_close(actor=request.user, task=task, request=request, **data)
        return _("Follow-up closed.")

    return _task_action(
        request,
        task_id,
        form_class=FollowUpCloseForm,
        prefix="close",
        refused=_("The follow-up was not closed: choose its final outcome."),
        act=close,
    )


urlpatterns = [
    path("notes/<int:note_id>/followups/", followup_add, name="followup_add"),
    path("followups/<int:task_id>/attempt/", followup_attempt, name="followup_attempt"),
    path("followups/<int:task_id>/close/", followup_close_view, name="followup_close"),
]
