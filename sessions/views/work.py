"""The counselor's home: their open drafts (returned ones marked), notes waiting for
co-signature and follow-ups due.

Each follow-up carries two small forms (log an attempt, close), so the list is bounded: the
FOLLOWUPS_SHOWN due soonest (overdue first), then a link to all of them. With 250 open
follow-ups the whole list was about 1 MB of HTML and took the worker ~100x a one-query page
under load (bench/pages_bench.py)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from crisisnotes.accounts.models import Role
from crisisnotes.accounts.permissions import role_required
from crisisnotes.http import AuthedRequest
from sessions.selectors.work import followup_open_rows_for_assignee, my_note_rows

FOLLOWUPS_SHOWN = 50


@role_required(Role.COUNSELOR)
def my_work(request: AuthedRequest) -> HttpResponse:
    followups, followups_total = followup_open_rows_for_assignee(
        user=request.user,
        limit=FOLLOWUPS_SHOWN,
        show_all=request.GET.get("followups") == "all",
    )
    notes = my_note_rows(user=request.user)
    return render(
        request,
        "sessions/my_work.html",
        {
            "drafts": notes.drafts,
            "awaiting": notes.awaiting,
            "followups": followups,
            "followups_total": followups_total,
            "now": timezone.now(),
        },
    )


urlpatterns = [
    path("work/", my_work, name="my_work"),
]
