"""Sign against autosave, and sign against sign, with real concurrency: two (or more) PostgreSQL
connections, one per thread, each closed at the end of its thread.

The order is forced, not hoped for: the first transaction does its write and holds its row lock
open; the second is started and the test waits until PostgreSQL reports it waiting on a lock
(pg_stat_activity); only then does the first commit. Each order runs many times.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import pytest
from django.db import connection, transaction
from django.test import Client as DjangoClient

from crisisnotes.audit.models import Action, AuditEvent
from crisisnotes.notifications.models import Notification
from sessions.exceptions import NoteAlreadySigned, NoteLocked, SignRefused
from sessions.models import CrisisSession, ReviewComment
from sessions.models.notes import NoteStatus
from sessions.services.notes import note_autosave
from sessions.services.review import AlreadyDecided, ReviewError, note_cosign, note_return
from sessions.services.signing import note_content_hash, note_sign, note_sign_problems
from tests.factories import NoteFactory
from tests.sessions.note_helpers import (
    complete_data,
    form_data,
    only_session_rules,  # noqa: F401 (fixture)
    reload,
    start_note,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("only_session_rules"),
]

ITERATIONS = 30
WAIT = 15.0


def _backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _wait_until_blocked(pid: int) -> None:
    """Until the backend `pid` waits for a lock (the other transaction's row lock)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
            row = cursor.fetchone()
        if row and row[0] == "Lock":
            return
        time.sleep(0.005)
    raise AssertionError(f"backend {pid} never waited for the lock")


class _Holder(threading.Thread):
    """Runs `work` in a transaction on its own connection and keeps it open (locks held) until
    released."""

    def __init__(self, work: Callable[[], Any]) -> None:
        super().__init__()
        self.work = work
        self.done = threading.Event()
        self.release = threading.Event()
        self.result: Any = None

    def run(self) -> None:
        try:
            with transaction.atomic():
                try:
                    self.result = self.work()
                finally:
                    self.done.set()
                assert self.release.wait(WAIT), "never released"
        except Exception as error:
            self.result = error
        finally:
            self.done.set()
            connection.close()


class _Waiter(threading.Thread):
    """Runs `work` on its own connection, publishing its backend pid first."""

    def __init__(self, work: Callable[[], Any]) -> None:
        super().__init__()
        self.work = work
        self.pid: int | None = None
        self.started_pid = threading.Event()
        self.result: Any = None

    def run(self) -> None:
        try:
            self.pid = _backend_pid()
            self.started_pid.set()
            self.result = self.work()
        except Exception as error:
            self.result = error
        finally:
            self.started_pid.set()
            connection.close()


def _queue(first: Callable[[], Any], *then: Callable[[], Any]) -> list[Any]:
    """Run `first` in a transaction that holds its locks; start each of `then` in turn, each
    only once the previous one is blocked on a lock; then let `first` commit. Returns every
    outcome (a value or the exception raised), in that order."""
    holder = _Holder(first)
    holder.start()
    assert holder.done.wait(WAIT)
    waiters = []
    for work in then:
        waiter = _Waiter(work)
        waiter.start()
        assert waiter.started_pid.wait(WAIT)
        if not isinstance(holder.result, Exception):
            assert waiter.pid is not None
            _wait_until_blocked(waiter.pid)
        waiters.append(waiter)
    holder.release.set()
    holder.join(WAIT)
    for waiter in waiters:
        waiter.join(WAIT)
    assert not holder.is_alive() and not any(w.is_alive() for w in waiters)
    return [holder.result, *(w.result for w in waiters)]


def _interleave(first: Callable[[], Any], second: Callable[[], Any]) -> tuple[Any, Any]:
    """`first` commits only after `second` is blocked on the lock `first` holds."""
    first_result, second_result = _queue(first, second)
    return first_result, second_result


def _row_lock(note: CrisisSession) -> Callable[[], Any]:
    return lambda: list(CrisisSession.objects.select_for_update().filter(pk=note.pk))


def _assert_record_holds(note: CrisisSession) -> None:
    """A note that left draft: its stored hash is the hash of what is stored, and the sign rules
    hold on what is stored."""
    stored = reload(note)
    assert stored.status != NoteStatus.DRAFT
    assert stored.content_hash == note_content_hash(stored)
    assert note_sign_problems(stored) == []


def _ready_draft(counselor: Any) -> CrisisSession:
    note = start_note(counselor)
    return note_autosave(note=note, user=counselor, base_version=1, data=complete_data(note))


def _autosave(counselor: Any, note: CrisisSession, **changes: str) -> Callable[[], Any]:
    data = form_data(note, **changes)
    version = int(data["version"])
    return lambda: note_autosave(note=note, user=counselor, base_version=version, data=data)


# Half the autosaves change hashed text, half empty a field a sign rule requires: the first
# catches a hash over stale rows, the second a check over stale rows.
def _change(i: int) -> dict[str, str]:
    if i % 2:
        return {"exploration-precipitating_event": ""}
    return {"exploration-precipitating_event": f"Typed in the other tab, round {i}: é ✓"}


def test_autosave_committing_while_sign_waits_is_what_sign_checks_and_hashes(counselor):
    signed = refused = 0
    for i in range(ITERATIONS):
        note = _ready_draft(counselor)
        saved, outcome = _interleave(
            _autosave(counselor, note, **_change(i)),
            partial(note_sign, note=note, user=counselor),
        )
        assert isinstance(saved, CrisisSession), saved
        if i % 2:
            # The autosave emptied a required field before the sign read the note.
            assert isinstance(outcome, SignRefused), outcome
            assert [p.code for p in outcome.problems] == ["precipitating_event"]
            assert reload(note).status == NoteStatus.DRAFT
            refused += 1
        else:
            assert isinstance(outcome, CrisisSession), outcome
            _assert_record_holds(note)
            assert (
                reload(note).exploration.precipitating_event
                == _change(i)["exploration-precipitating_event"]
            )
            signed += 1
    assert (signed, refused) == (ITERATIONS // 2, ITERATIONS // 2)


def test_sign_committing_while_autosave_waits_refuses_the_autosave(counselor):
    for i in range(ITERATIONS):
        note = _ready_draft(counselor)
        before = reload(note).exploration.precipitating_event
        signed, outcome = _interleave(
            partial(note_sign, note=note, user=counselor),
            _autosave(counselor, note, **_change(i)),
        )
        assert isinstance(signed, CrisisSession), signed
        assert isinstance(outcome, NoteLocked), outcome
        _assert_record_holds(note)
        assert reload(note).exploration.precipitating_event == before


def test_save_then_sign_request_and_autosave_in_both_orders(counselor, client: DjangoClient):
    """The page's Sign button (save + sign in one request) against the other tab's autosave."""
    client.force_login(counselor)
    for i in range(ITERATIONS // 3):
        # Autosave first: the Sign tab's version is now stale — a conflict, nothing signed, its
        # text kept on the page.
        note = _ready_draft(counselor)
        page = form_data(note, **{"exploration-affect_notes": f"Sign tab text {i}"})
        _, response = _interleave(
            _autosave(counselor, note, **{"rapport-engagement_notes": f"Tab B {i}"}),
            partial(client.post, f"/notes/{note.pk}/sign/", page),
        )
        assert response.status_code == 409
        assert f"Sign tab text {i}" in response.content.decode()
        assert reload(note).status == NoteStatus.DRAFT

        # Sign request first (queued first behind a held row lock), autosave second: the save
        # and the signature are one transaction, the autosave is refused after it.
        note = _ready_draft(counselor)
        page = form_data(note, **{"exploration-affect_notes": f"Sign tab text {i}"})
        _, response, refused = _queue(
            _row_lock(note),
            partial(client.post, f"/notes/{note.pk}/sign/", page),
            _autosave(counselor, note, **{"rapport-engagement_notes": f"Tab B {i}"}),
        )
        assert response.status_code == 302, response
        assert isinstance(refused, NoteLocked), refused
        _assert_record_holds(note)
        assert reload(note).exploration.affect_notes == f"Sign tab text {i}"
        assert reload(note).rapport.engagement_notes != f"Tab B {i}"


def _all_at_once(works: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(works))
    results: list[Any] = [None] * len(works)

    def run(index: int, work: Callable[[], Any]) -> None:
        try:
            barrier.wait(WAIT)
            results[index] = work()
        except Exception as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, w)) for i, w in enumerate(works)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not any(t.is_alive() for t in threads)
    return results


def test_concurrent_signs_exactly_one_succeeds_the_others_are_told_already_signed(counselor):
    for _ in range(ITERATIONS // 3):
        note = _ready_draft(counselor)
        results = _all_at_once([partial(note_sign, note=note, user=counselor)] * 4)
        assert sum(isinstance(r, CrisisSession) for r in results) == 1, results
        assert sum(isinstance(r, NoteAlreadySigned) for r in results) == 3, results
        _assert_record_holds(note)
    # Forced order too: the second sign waits for the first's lock and is then told.
    note = _ready_draft(counselor)
    first, second = _interleave(
        lambda: note_sign(note=note, user=counselor), lambda: note_sign(note=note, user=counselor)
    )
    assert isinstance(first, CrisisSession) and isinstance(second, NoteAlreadySigned)
    assert "already signed" in str(second)


def test_concurrent_sign_requests_one_302_the_others_409_already_signed(counselor):
    note = _ready_draft(counselor)
    page = form_data(note)

    def post(accept: str) -> Any:
        browser = DjangoClient()
        browser.force_login(counselor)
        return browser.post(f"/notes/{note.pk}/sign/", page, HTTP_ACCEPT=accept)

    for _ in range(5):
        results = _all_at_once([lambda: post("application/json")] * 3 + [lambda: post("text/html")])
        assert not any(isinstance(r, Exception) for r in results), results
        json_codes = sorted(r.status_code for r in results[:3])
        # One request signed (302 to the note); every JSON caller that lost got 409 "locked"
        # with the message; the plain post is a 302 either way (signed, or redirected with the
        # message because it posted nothing new). Never a 403 or a 500.
        assert json_codes in ([302, 409, 409], [409, 409, 409]), json_codes
        assert results[3].status_code == 302
        for r in results[:3]:
            if r.status_code == 409:
                assert r.json()["error"] == "locked"
                assert "already signed" in r.json()["message"]
        assert AuditEvent.objects.filter(action=Action.SIGN, object_id=str(note.pk)).count() == 1
        _assert_record_holds(note)
        note = _ready_draft(counselor)
        page = form_data(note)


def test_concurrent_cosigns_exactly_one_succeeds(supervisor, trainee):
    for _ in range(5):
        note = NoteFactory.create(awaiting_cosign=True, author=trainee)
        results = _all_at_once([partial(note_cosign, note=note, supervisor=supervisor)] * 3)
        assert sum(isinstance(r, CrisisSession) for r in results) == 1, results
        assert sum(isinstance(r, AlreadyDecided) for r in results) == 2, results
        assert all("already co-signed" in str(r) for r in results if isinstance(r, Exception))
        stored = reload(note)
        assert stored.status == NoteStatus.SIGNED and stored.cosign_hash
        assert Notification.objects.filter(event_key=f"note:{note.pk}:cosigned").count() == 1


def test_cosign_and_return_in_both_orders(supervisor, trainee, client: DjangoClient):
    client.force_login(supervisor)
    for cosign_first in (True, False):
        note = NoteFactory.create(awaiting_cosign=True, author=trainee)
        cosign = lambda note=note: client.post(  # noqa: E731
            f"/team/review/{note.pk}/cosign/", HTTP_ACCEPT="application/json"
        )
        give_back = lambda note=note: client.post(  # noqa: E731
            f"/team/review/{note.pk}/return/",
            {
                "comment-TOTAL_FORMS": "1",
                "comment-INITIAL_FORMS": "0",
                "comment-0-section_key": "",
                "comment-0-text": "Please add the plan.",
            },
            HTTP_ACCEPT="application/json",
        )
        first, second = _queue(
            _row_lock(note), *((cosign, give_back) if cosign_first else (give_back, cosign))
        )[1:]
        assert first.status_code == 302, first
        assert second.status_code == 409, second
        assert second.json()["error"] == "already_decided"
        stored = reload(note)
        if cosign_first:
            assert stored.status == NoteStatus.SIGNED
            assert "already co-signed" in second.json()["message"]
            assert not ReviewComment.objects.filter(session=note).exists()
        else:
            assert stored.status == NoteStatus.DRAFT
            assert "already returned" in second.json()["message"]
            assert ReviewComment.objects.filter(session=note).count() == 1


def test_lost_review_race_is_refused_in_the_service_too(supervisor, trainee):
    note = NoteFactory.create(awaiting_cosign=True, author=trainee)
    note_return(note=note, supervisor=supervisor, comments=[("", "Once.")])
    with pytest.raises(ReviewError):
        note_cosign(note=note, supervisor=supervisor)


def test_a_safety_plan_saved_from_the_client_page_while_signing_is_in_the_hash_or_after_it(
    counselor,
):
    """The plan in force is hashed; a plan saved for the client (not through the note) while
    the note is signed either lands before the sign reads (and is in the hash) or after the
    signature (and is not the plan in force): the record verifies either way."""
    from safety.services import plan_default_steps, safety_plan_save

    for plan_first in (True, False):
        note = _ready_draft(counselor)
        steps = plan_default_steps(client=note.client)
        steps["warning_signs"] = ["Staying in bed all day"]
        save_plan = partial(
            safety_plan_save, actor=counselor, client=note.client, steps=steps, fields={}
        )
        sign = partial(note_sign, note=note, user=counselor)
        outcomes = _queue(save_plan, sign) if plan_first else _queue(sign, save_plan)
        assert not any(isinstance(o, Exception) for o in outcomes), outcomes
        _assert_record_holds(note)


def test_a_safety_plan_saved_in_the_note_while_signing_is_hashed_or_refused(counselor):
    """The note's plan panel saves a version linked to the session: it takes the client's lock,
    then the note's (the order signing takes them). Saved first, it is the plan in force and in
    the hash; saved after the signature, it is refused and the note stays as signed."""
    from safety.exceptions import NoteNotEditable
    from safety.models import SafetyPlanVersion
    from safety.selectors import plan_in_force
    from safety.services import plan_default_steps, safety_plan_save

    for plan_first in (True, False):
        note = _ready_draft(counselor)
        steps = plan_default_steps(client=note.client)
        steps["warning_signs"] = ["Staying in bed all day"]
        save_plan = partial(
            safety_plan_save,
            actor=counselor,
            client=note.client,
            steps=steps,
            fields={},
            session=note,
        )
        sign = partial(note_sign, note=note, user=counselor)
        outcomes = _queue(save_plan, sign) if plan_first else _queue(sign, save_plan)
        plan_outcome = outcomes[0] if plan_first else outcomes[1]
        linked = SafetyPlanVersion.objects.filter(session=note)
        if plan_first:
            assert not isinstance(plan_outcome, Exception), outcomes
            assert plan_in_force(note=reload(note)) == linked.get()
        else:
            assert isinstance(plan_outcome, NoteNotEditable), outcomes
            assert not linked.exists()
        _assert_record_holds(note)
