"""The clinic admin's snippets page: list, add, change, delete (each audited)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crisisnotes.accounts.models import Role
from crisisnotes.accounts.permissions import role_required
from crisisnotes.http import AuthedRequest
from sessions.forms.snippets import SnippetForm
from sessions.selectors.snippets import snippet_get, snippet_list
from sessions.services.snippets import snippet_delete, snippet_save


def _render(request: AuthedRequest, form: SnippetForm, status: int = 200) -> HttpResponse:
    user = request.user
    return render(
        request,
        "sessions/snippets/snippet_list.html",
        {"form": form, "snippets": snippet_list(user=user), "active": "snippets"},
        status=status,
    )


@role_required(Role.CLINIC_ADMIN)
def snippet_list_view(request: AuthedRequest) -> HttpResponse:
    user = request.user
    editing = None
    if request.GET.get("edit"):
        editing = snippet_get(user=user, snippet_id=int(request.GET["edit"]))
    if request.method == "POST":
        if request.POST.get("id"):
            editing = snippet_get(user=user, snippet_id=int(request.POST["id"]))
        form = SnippetForm(request.POST, instance=editing, clinic_id=user.clinic_id or 0)
        if form.is_valid():
            snippet_save(
                actor=user,
                snippet=editing,
                shortcut=form.cleaned_data["shortcut"],
                text=form.cleaned_data["text"],
                request=request,
            )
            messages.success(
                request,
                _("Snippet ;%(shortcut)s saved.") % {"shortcut": form.cleaned_data["shortcut"]},
            )
            return redirect("crisis_sessions:snippet_list")
        return _render(request, form, status=400)
    return _render(request, SnippetForm(instance=editing, clinic_id=user.clinic_id or 0))


@require_POST
@role_required(Role.CLINIC_ADMIN)
def snippet_delete_view(request: AuthedRequest, snippet_id: int) -> HttpResponse:
    user = request.user
    snippet = snippet_get(user=user, snippet_id=snippet_id)
    snippet_delete(actor=user, snippet=snippet, request=request)
    messages.success(request, _("Snippet ;%(shortcut)s deleted.") % {"shortcut": snippet.shortcut})
    return redirect("crisis_sessions:snippet_list")


urlpatterns = [
    path("snippets/", snippet_list_view, name="snippet_list"),
    path("snippets/<int:snippet_id>/delete/", snippet_delete_view, name="snippet_delete"),
]
