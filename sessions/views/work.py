"""The counselor's home: their open drafts (returned ones marked), notes waiting for
co-signature and follow-ups due."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from crisisnotes.accounts.models import Role
from crisisnotes.accounts.permissions import role_required
from sessions.selectors.work import (
    awaiting_cosign_list_for_author,
    draft_list_for_author,
    followup_open_list_for_assignee,
)


@role_required(Role.COUNSELOR)
def my_work(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "sessions/my_work.html",
        {
            "drafts": draft_list_for_author(user=request.user),  # type: ignore[arg-type]
            "awaiting": awaiting_cosign_list_for_author(user=request.user),  # type: ignore[arg-type]
            "followups": followup_open_list_for_assignee(user=request.user),  # type: ignore[arg-type]
            "now": timezone.now(),
        },
    )


urlpatterns = [
    path("work/", my_work, name="my_work"),
]
