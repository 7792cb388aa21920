"""Supervision: the supervisor's team page (home), review queue, co-sign and return."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path

from crisisnotes.accounts.models import Role
from crisisnotes.accounts.permissions import role_required
from sessions.selectors.work import awaiting_cosign_list_for_supervisor


@role_required(Role.SUPERVISOR)
def dashboard(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "sessions/dashboard.html",
        {"awaiting": awaiting_cosign_list_for_supervisor(user=request.user)},  # type: ignore[arg-type]
    )


urlpatterns = [
    path("team/", dashboard, name="dashboard"),
]
