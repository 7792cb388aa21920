"""Benchmark of the audit reports on a large log, printed as ratios against a floor measured in
the same run (so the numbers compare across machines; nothing here asserts a time).

It fills the log with `--rows` audit events (bulk inserts, default 1 million) spread over
`--clients` clients, `--users` users and a year, then times what the pages run:

- floor: one indexed lookup of an audit event by primary key;
- a client's access report: the first page of its events, the count behind the pagination, the
  per-person summary and the client labels — exactly the selectors the view calls;
- a user's activity report and the log filtered by one action (first page + count).

Run: DATABASE_URL=postgres://... .venv/bin/python bench/audit_bench.py [--rows 1000000]
It creates and drops its own database (test_<name>) next to the one DATABASE_URL names.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisisnotes.settings")
os.environ.setdefault("DJANGO_ENV", "test")
os.environ.setdefault("EMAIL_URL", "dummymail://")

BATCH = 10_000


def _timed(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of `repeat` calls, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="audit events to insert")
    parser.add_argument("--clients", type=int, default=20_000)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server.")

    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases
    from django.utils import timezone

    from crisisnotes.accounts.models import Clinic, User
    from crisisnotes.audit.models import Action, AuditEvent
    from crisisnotes.audit.selectors import (
        AuditFilters,
        audit_event_labelled,
        audit_event_search,
        audit_people_summary,
    )
    from sessions.models import Client
    from tests.factories import ClinicFactory, UserFactory

    rng = random.Random(528)
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        clinic: Clinic = ClinicFactory(name="Bench Clinic")  # type: ignore[assignment]
        other: Clinic = ClinicFactory(name="Other Bench Clinic")  # type: ignore[assignment]
        admin: User = UserFactory(clinic=clinic, is_clinic_admin=True)  # type: ignore[assignment]
        users: list[User] = [UserFactory(clinic=clinic) for _ in range(args.users)]  # type: ignore[misc]
        Client.objects.bulk_create(
            [
                Client(clinic=clinic, alias=f"Bench caller {n}", created_by=admin)
                for n in range(args.clients)
            ],
            batch_size=BATCH,
        )
        client_ids = list(Client.objects.values_list("pk", flat=True))
        actions = [Action.VIEW] * 6 + [Action.UPDATE, Action.EXPORT, Action.DOWNLOAD, Action.SIGN]
        now = timezone.now()
        start = time.perf_counter()
        inserted = 0
        while inserted < args.rows:
            size = min(BATCH, args.rows - inserted)
            rows = []
            for _ in range(size):
                actor = rng.choice(users)
                client_id = rng.choice(client_ids)
                rows.append(
                    AuditEvent(
                        # One row in ten belongs to another clinic: the scoping must filter it.
                        clinic=clinic if rng.random() < 0.9 else other,
                        actor=actor,
                        actor_username=actor.username,
                        action=rng.choice(actions),
                        object_type="crisis_sessions.client",
                        object_id=str(client_id),
                        client_id=client_id,
                        summary="bench",
                        ip_address="10.0.0.1",
                    )
                )
            AuditEvent.objects.bulk_create(rows)
            inserted += size
        # created_at is auto_now_add: spread the rows over a year in one statement (the append-only
        # trigger is bypassed for this bench database only, which is dropped at the end).
        with connection.cursor() as cursor:
            cursor.execute("ALTER TABLE audit_auditevent DISABLE TRIGGER USER")
            cursor.execute(
                "UPDATE audit_auditevent SET created_at = %s - (random() * interval '365 days')",
                [now],
            )
            cursor.execute("ALTER TABLE audit_auditevent ENABLE TRIGGER USER")
            cursor.execute("VACUUM ANALYZE audit_auditevent")
        print(f"inserted {args.rows:,} audit events in {time.perf_counter() - start:.0f} s")

        target_client = rng.choice(client_ids)
        target_user = rng.choice(users)
        pks = list(AuditEvent.objects.values_list("pk", flat=True)[:10_000])
        week_ago = (now - timedelta(days=7)).date()

        def floor() -> object:
            return AuditEvent.objects.get(pk=rng.choice(pks))

        def page(filters: AuditFilters, *, people: bool) -> object:
            events = audit_event_search(user=admin, filters=filters)
            list(audit_event_labelled(user=admin, events=events)[:100])  # the page's rows
            count = events.count()
            if people:
                audit_people_summary(events=events)
            return count

        base = _timed(floor, args.repeat)
        print(f"floor: one indexed lookup by primary key  {base * 1000:.2f} ms")
        cases = [
            ("access report of one client (all time)", AuditFilters(client_id=target_client), True),
            (
                "access report of one client (last week)",
                AuditFilters(client_id=target_client, date_from=week_ago),
                True,
            ),
            ("activity report of one user", AuditFilters(actor_id=target_user.pk), False),
            ("log filtered by action 'export'", AuditFilters(action=Action.EXPORT), False),
        ]
        for label, filters, people in cases:
            took = _timed(lambda f=filters, p=people: page(f, people=p), args.repeat)  # type: ignore[misc]
            print(f"{label:<42} {took * 1000:8.2f} ms = {took / base:7.1f}× floor")
    finally:
        teardown_databases(old_config, verbosity=0)


if __name__ == "__main__":
    main()
