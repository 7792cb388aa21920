"""A note with the longest allowed text in every field — one unbroken string each, the worst case
for layout — opens in Chromium in about the time a normal note does, as a draft and signed, and
never makes the page scroll sideways: long strings wrap (app.css overflow-wrap)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest
from django import forms
from django.db import models
from django.utils import timezone
from playwright.sync_api import Page

from crisisnotes.accounts.models import User
from crisisnotes.validators import QUICK_NOTE
from sessions.models import Client, CrisisSession, FollowUpTask, QuickNote
from sessions.services.notes import note_autosave, note_forms
from tests.e2e.conftest import log_in
from tests.e2e.helpers_note import wait_ready
from tests.factories import PASSWORD, ClientFactory
from tests.sessions.note_helpers import form_data, reload, start_note

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLOWER_AT_MOST = 3.0  # generous: the point is "about the same", not a benchmark
FLOOR_SECONDS = 0.25  # below this a page load is noise on a shared 2-core machine


def _fill(note: CrisisSession, text: Callable[[str, int], str]) -> CrisisSession:
    data: dict[str, Any] = {}
    for section_forms in note_forms(note=reload(note)).values():
        for form in section_forms:
            for name, field in form.fields.items():
                if isinstance(field, forms.CharField) and not field.widget.is_hidden:
                    assert field.max_length
                    data[form.add_prefix(name)] = text(form.add_prefix(name), field.max_length)
    return note_autosave(
        note=note, user=note.author, base_version=note.version, data=form_data(note, **data)
    )


def _longest(name: str, limit: int) -> str:
    # One unbroken "word" per field, at the field's limit.
    return (name.replace("-", "") * (limit // len(name) + 1))[:limit]


def _normal(name: str, limit: int) -> str:
    return "Talked about the week; calmer by the end." if limit > 100 else "Harbour"


def _longest_client(counselor: User) -> Client:
    """A client whose every text field is one unbroken string at its limit."""
    values = {
        field.name: _longest(field.name, field.max_length)
        for field in Client._meta.concrete_fields
        if isinstance(field, (models.CharField, models.TextField))
        and field.editable
        and not field.choices
        and field.max_length
    }
    return ClientFactory(clinic=counselor.clinic, created_by=counselor, **values)


def _extras(note: CrisisSession, long: bool) -> None:
    for i in range(5 if long else 1):
        text = ("Q" * QUICK_NOTE) if long else f"Sister nearby {i}"
        QuickNote.objects.create(session=note, text=text)
    FollowUpTask.objects.create(
        clinic=note.clinic,
        session=note,
        client=note.client,
        assigned_to=note.author,
        due_at=timezone.now() + timezone.timedelta(hours=20),
        method="call",
        purpose=("P" * 300) if long else "Check in",
    )


def _sign(note: CrisisSession) -> None:
    # Signed as note_sign stores it; the sign rules are not the point here.
    CrisisSession.objects.filter(pk=note.pk).update(
        status="signed",
        ended_at=note.started_at,
        signed_by=note.author,
        signed_at=timezone.now(),
        signer_name=note.author.display_name,
        content_hash="0" * 64,
    )


def _open(page: Page, url: str, draft: bool) -> float:
    start = time.perf_counter()
    page.goto(url)
    if draft:
        wait_ready(page)
    else:
        page.wait_for_load_state("load")
    return time.perf_counter() - start


def _no_sideways_scroll(page: Page) -> None:
    overflow = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert overflow[0] <= overflow[1], f"page is {overflow[0]}px wide in a {overflow[1]}px view"
    # No element sticks out of the viewport, and no text sticks out of its box (which a
    # scrolling or clipping ancestor would hide from the check above). Bootstrap's rows hang
    # their gutters (up to 1.5rem) outside their parent by design: that much is not overflow;
    # an unwrapped string at a field's limit is thousands of pixels.
    wide = page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth + 1;
            return [...document.querySelectorAll('main *')]
              .filter(e => !['INPUT', 'SELECT'].includes(e.tagName))
              .filter(e => !e.closest('.visually-hidden'))
              .filter(e => e.getBoundingClientRect().right > width
                           || e.scrollWidth > e.clientWidth + 32)
              .map(e => e.tagName + '#' + e.id + '.' + e.className).slice(0, 5);
        }"""
    )
    assert wide == [], wide


def _median_load(page: Page, url: str, draft: bool) -> float:
    _open(page, url, draft)  # warm-up: templates, connections
    return statistics.median(_open(page, url, draft) for _ in range(3))


def test_a_note_at_every_limit_opens_like_a_normal_one_and_wraps(
    page: Page, live_server: Any, counselor: User
) -> None:
    normal = _fill(start_note(counselor), _normal)
    _extras(normal, long=False)
    longest = _fill(start_note(counselor, client=_longest_client(counselor)), _longest)
    _extras(longest, long=True)
    assert len(reload(longest).exploration.precipitating_event) > 5000

    page.set_viewport_size({"width": 1280, "height": 900})
    log_in(page, live_server.url, counselor.username, PASSWORD)
    for draft in (True, False):
        if not draft:
            _sign(normal)
            _sign(longest)
        normal_time = _median_load(page, live_server.url + normal.get_absolute_url(), draft)
        long_time = _median_load(page, live_server.url + longest.get_absolute_url(), draft)
        _no_sideways_scroll(page)
        kind = "draft" if draft else "signed"
        print(f"{kind}: normal {normal_time:.3f}s, longest {long_time:.3f}s")
        assert long_time <= SLOWER_AT_MOST * max(normal_time, FLOOR_SECONDS), (
            f"{kind}: the longest note took {long_time:.2f}s, a normal one {normal_time:.2f}s"
        )
    # The signed page shows the long strings (as text, where wrapping matters), whole.
    body = page.locator("main").inner_text()
    assert "Q" * 200 in body
    # The client page (timeline, header, panels) of that client wraps too.
    page.goto(live_server.url + longest.client.get_absolute_url())
    _no_sideways_scroll(page)
    # A narrow window (a phone) does not scroll sideways on the note either.
    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(live_server.url + longest.get_absolute_url())
    _no_sideways_scroll(page)
