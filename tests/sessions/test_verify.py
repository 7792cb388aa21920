"""Record verification: `note_verify`, `manage.py verify_records` and the periodic check.

Tampering is done the way an operator with the owner's powers could: a separate superuser
connection switches `session_replication_role` to `replica` (so no trigger fires), changes a
stored row directly in SQL, and switches it back.
"""

from __future__ import annotations

import io
import time

import psycopg
import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from crisisnotes.notifications.models import Notification
from sessions.hashing import note_verify
from sessions.models import CrisisSession, RecordIntegrityAlert
from sessions.models.notes import NoteStatus
from sessions.services.demo import demo_seed
from sessions.services.review import note_cosign
from sessions.services.verify import record_mismatches_notify, records_verify
from sessions.tasks import records_verify_task
from tests import workers
from tests.factories import NoteFactory
from tests.sessions.note_helpers import reload
from tests.workers import celery_worker

pytestmark = pytest.mark.django_db(transaction=True)


def tamper(sql: str, params: list[object]) -> None:
    """Run `sql` on its own superuser connection with every trigger off, then restore."""
    with psycopg.connect(workers.test_database_url(), autocommit=True) as owner:
        owner.execute("SET session_replication_role = replica")
        owner.execute(sql, params)
        owner.execute("SET session_replication_role = origin")


def verify_records() -> tuple[str, CommandError | None]:
    out = io.StringIO()
    try:
        call_command("verify_records", stdout=out)
    except CommandError as error:
        return out.getvalue(), error
    return out.getvalue(), None


def test_demo_data_verifies_and_a_tampered_note_is_reported_exactly(counselor, supervisor, trainee):
    demo_seed(password="demo-test-password-1")
    plain = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    cosigned = note_cosign(
        note=NoteFactory.create(awaiting_cosign=True, author=trainee), supervisor=supervisor
    )
    out, error = verify_records()
    assert error is None, out
    total = CrisisSession.objects.exclude(status=NoteStatus.DRAFT).count()
    assert total >= 3
    assert f"{total} signed notes checked, 0 mismatches." in out

    # A stage row changed behind the application's back: the content hash no longer matches.
    tamper(
        "UPDATE crisis_sessions_explorationstage SET precipitating_event = %s "
        "WHERE session_id = %s",
        ["Changed after signing", plain.pk],
    )
    out, error = verify_records()
    assert error is not None and "1 mismatches" in str(error)
    lines = [line for line in out.splitlines() if line.startswith("MISMATCH")]
    assert lines == [
        f"MISMATCH note {plain.pk} content hash: stored {plain.content_hash} computed "
        f"{note_verify(note=reload(plain)).checks[0].computed}"
    ]

    # The co-signer's name changed: only the co-sign hash fails, on that note only.
    tamper(
        "UPDATE crisis_sessions_crisissession SET cosigner_name = %s WHERE id = %s",
        ["Somebody Else", cosigned.pk],
    )
    result = records_verify()
    assert [(v.note_id, [c.kind for c in v.mismatches]) for v in result.mismatched] == [
        (plain.pk, ["content"]),
        (cosigned.pk, ["cosign"]),
    ]
    with pytest.raises(CommandError):
        call_command("verify_records", stdout=io.StringIO())


def test_note_page_says_whether_the_record_verifies(counselor, client):
    note = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    client.force_login(counselor)
    page = client.get(f"/notes/{note.pk}/").content.decode()
    assert "Record verified: content hash matches" in page
    assert 'data-verified="yes"' in page

    tamper(
        "UPDATE crisis_sessions_followupstage SET followup_plan = %s WHERE session_id = %s",
        ["No call back", note.pk],
    )
    page = client.get(f"/notes/{note.pk}/").content.decode()
    assert 'data-verified="no"' in page
    assert "this record does not verify" in page
    assert "Record verified" not in page


def test_periodic_check_tells_each_clinic_admin_once_per_mismatch(
    counselor, clinic_admin, outsider, eager_tasks
):
    note = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    fine = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    assert record_mismatches_notify().alerts == 0
    tamper(
        "UPDATE crisis_sessions_crisissession SET modality = %s WHERE id = %s",
        ["in_person" if note.modality != "in_person" else "phone", note.pk],
    )

    first = records_verify_task()
    assert first == {"checked": 2, "mismatches": 1, "alerts": 1}
    second = records_verify_task()
    assert second == {"checked": 2, "mismatches": 1, "alerts": 0}

    alert = RecordIntegrityAlert.objects.get()
    assert (alert.session_id, alert.kind, alert.stored_hash) == (
        note.pk,
        "content",
        note.content_hash,
    )
    told = Notification.objects.filter(kind="record_mismatch")
    assert [(n.recipient, n.url) for n in told] == [(clinic_admin, f"/notes/{note.pk}/")]
    assert str(note.pk) in told[0].message and note.client.alias not in told[0].message
    # The other clinic's admin hears nothing of this clinic; the e-mail went once.
    assert not Notification.objects.filter(recipient=outsider).exists()
    assert [m.to for m in mail.outbox] == [[clinic_admin.email]]
    assert fine.pk not in {a.session_id for a in RecordIntegrityAlert.objects.all()}


@pytest.mark.worker
def test_periodic_check_runs_in_a_real_worker(counselor, clinic_admin):
    note = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    tamper(
        "UPDATE crisis_sessions_rapportstage SET engagement_notes = %s WHERE session_id = %s",
        ["rewritten", note.pk],
    )
    with celery_worker() as worker:
        records_verify_task.delay()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if RecordIntegrityAlert.objects.filter(session=note).exists():
                break
            time.sleep(0.2)
        else:
            raise AssertionError(worker.log())
    assert Notification.objects.filter(recipient=clinic_admin, kind="record_mismatch").count() == 1


def test_two_checks_at_once_tell_the_admins_once(counselor, clinic_admin, eager_tasks):
    """Two beats (or a retried task) running the check at the same moment: the unique alert
    row lets exactly one of them notify."""
    import threading

    from django.db import connection

    note = NoteFactory.create(signed=True, high_risk=True, author=counselor)
    tamper(
        "UPDATE crisis_sessions_problemsolvingstage SET action_plan = %s WHERE session_id = %s",
        ["rewritten", note.pk],
    )
    barrier = threading.Barrier(3)
    alerts: list[int] = []

    def run() -> None:
        try:
            barrier.wait(15)
            alerts.append(record_mismatches_notify().alerts)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(alerts) == [0, 0, 1]
    assert RecordIntegrityAlert.objects.filter(session=note).count() == 1
    assert Notification.objects.filter(recipient=clinic_admin, kind="record_mismatch").count() == 1
    assert len(mail.outbox) == 1


def test_the_hash_reads_its_lists_together_and_computes_the_same(counselor, monkeypatch):
    """The content payload's list reads (supervisor notifications, disclosures, follow-up
    tasks, quick notes, handoffs) go to the database as one statement, and every demo record's
    payload is what the reads one by one give."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from sessions import hashing
    from sessions.models import QuickNote
    from tests.factories import FollowUpTaskFactory

    def lists(note: CrisisSession) -> None:
        FollowUpTaskFactory.create(session=note)
        FollowUpTaskFactory.create(session=note, method="text")
        QuickNote.objects.create(session=note, text="Caller calmer after breathing")

    demo_seed(password="demo-test-password-1")
    NoteFactory.create(signed=True, high_risk=True, author=counselor, before_signing=lists)
    notes = list(CrisisSession.objects.exclude(status=NoteStatus.DRAFT).order_by("id"))
    assert len(notes) >= 2
    together = []
    for note in notes:
        with CaptureQueriesContext(connection) as captured:
            together.append(hashing.note_content_canonical(note))
        if connection.vendor != "postgresql":
            continue  # elsewhere run_together sends them one by one
        (combined,) = [q["sql"] for q in captured.captured_queries if ";\n" in q["sql"]]
        for table in (
            "safety_supervisornotification",
            "safety_disclosure",
            "crisis_sessions_followuptask",
            "crisis_sessions_quicknote",
            "crisis_sessions_notehandoff",
        ):
            assert f'"{table}"' in combined
            assert not [
                q for q in captured.captured_queries if q["sql"] != combined and table in q["sql"]
            ]
    monkeypatch.setattr(hashing, "note_content_reads", lambda note: [])
    one_by_one = [hashing.note_content_canonical(note) for note in notes]
    assert together == one_by_one
    # Lists with rows in them, not only empty ones.
    assert b'"tasks":[{' in b"".join(together) and b'"quick_notes":[{' in b"".join(together)
    assert all(note_verify(note=note).ok for note in notes)
