"""Benchmark of the follow-up scan (beat's reminders and escalations), printed as a ratio against
a floor measured in the same run; nothing here asserts a time.

It makes `--tasks` open follow-ups that are all overdue past the grace period (so each gets one
reminder and one escalation: 2 × tasks alerts), then times `followup_scan()` — claims, in-app
notifications, audit rows and the e-mail batches queued on a real Redis — and checks there are no
duplicates, also when two scans race on two connections. The floor is PostgreSQL writing the
same number of rows with one `INSERT … SELECT` into an unindexed temporary table: the bare cost
of the rows, with nothing of ours.

Run: DATABASE_URL=postgres://... REDIS_URL=redis://127.0.0.1:6379/N \\
         .venv/bin/python bench/followup_scan_bench.py [--tasks 100000]
It creates and drops its own database (test_<name>) next to the one DATABASE_URL names.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisisnotes.settings")
os.environ.setdefault("DJANGO_ENV", "test")
os.environ.setdefault("EMAIL_URL", "dummymail://")
if "REDIS_URL" in os.environ:
    os.environ.setdefault("CELERY_BROKER_URL", os.environ["REDIS_URL"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", type=int, default=100_000, help="overdue follow-ups")
    parser.add_argument("--counselors", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="print where the scan spends time")
    parser.add_argument(
        "--parallel", type=int, default=None, help="walks at once (default: SCAN_PARALLEL)"
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server.")
    if not os.environ.get("REDIS_URL"):
        sys.exit("Set REDIS_URL: the scan queues its e-mail batches on the real broker.")

    import django

    django.setup()
    import redis
    from django.db import connection, connections
    from django.test.utils import setup_databases, teardown_databases
    from django.utils import timezone

    from crisisnotes.accounts.models import Clinic, User
    from crisisnotes.audit.models import AuditEvent
    from crisisnotes.celery import app as celery_app
    from crisisnotes.notifications.models import Notification
    from sessions.models import CrisisSession, FollowUpAlert, FollowUpTask
    from sessions.services import followups

    def followup_scan() -> followups.ScanResult:
        if args.parallel is None:
            return followups.followup_scan()
        return followups.followup_scan(parallel=args.parallel)

    from tests.factories import (
        ClinicFactory,
        CrisisSessionFactory,
        TeamFactory,
        UserFactory,
    )

    queue = f"bench-{uuid.uuid4().hex[:8]}"
    celery_app.conf.task_default_queue = queue
    broker = redis.Redis.from_url(os.environ["REDIS_URL"])
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        # factory-boy's factories are not typed as the models they build.
        clinic = cast(Clinic, ClinicFactory(name="Bench Clinic"))
        counselors: list[User] = []
        for i in range(args.counselors):
            supervisor = UserFactory(clinic=clinic, is_supervisor=True, username=f"sup{i}")
            team = TeamFactory(clinic=clinic, supervisor=supervisor)
            counselors.append(
                cast(User, UserFactory(clinic=clinic, team=team, username=f"counselor{i}"))
            )
        sessions = [
            cast(CrisisSession, CrisisSessionFactory(clinic=clinic, author=c)) for c in counselors
        ]
        due = timezone.now() - timedelta(days=1)

        def overdue_tasks(n: int) -> None:
            FollowUpTask.objects.bulk_create(
                [
                    FollowUpTask(
                        clinic=clinic,
                        session=sessions[i % len(sessions)],
                        client=sessions[i % len(sessions)].client,
                        assigned_to=counselors[i % len(counselors)],
                        due_at=due - timedelta(seconds=i),
                        method="call",
                    )
                    for i in range(n)
                ],
                batch_size=5000,
            )

        start = time.perf_counter()
        overdue_tasks(args.tasks)
        print(f"dataset: {args.tasks} overdue follow-ups in {time.perf_counter() - start:.1f} s")

        alerts = 2 * args.tasks
        with connection.cursor() as cursor:
            cursor.execute("CREATE TEMPORARY TABLE bench_floor (a bigint, b text, c timestamptz)")
            start = time.perf_counter()
            cursor.execute(
                "INSERT INTO bench_floor SELECT id, k, now() FROM "  # noqa: S608
                f"{FollowUpTask._meta.db_table}, (VALUES ('reminder'), ('escalation')) v(k)"
            )
            floor = time.perf_counter() - start
        print(f"floor: INSERT … SELECT of {alerts} bare rows {floor:.2f} s")

        profiler = cProfile.Profile() if args.profile else None
        statements: dict[str, list[float]] = {}

        def timed(execute, sql, params, many, context):
            begin = time.perf_counter()
            try:
                return execute(sql, params, many, context)
            finally:
                statements.setdefault(" ".join(sql.split()[:4]), []).append(
                    time.perf_counter() - begin
                )

        start = time.perf_counter()
        if profiler:
            profiler.enable()
        with connection.execute_wrapper(timed):
            result = followup_scan()
        elapsed = time.perf_counter() - start
        if profiler:
            profiler.disable()
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        for statement, times in sorted(statements.items(), key=lambda kv: -sum(kv[1])):
            print(f"  {sum(times):6.2f} s in {len(times):3d} × {statement[:60]}")
        queued = broker.llen(queue)
        print(
            f"scan: {result.reminders} reminders + {result.escalations} escalations recorded "
            f"and queued in {elapsed:.2f} s = {elapsed / floor:.1f}× floor "
            f"({alerts / elapsed:,.0f} alerts/s; {queued} e-mail batches queued)"
        )
        start = time.perf_counter()
        again = followup_scan()
        print(
            f"scan again (nothing new): {again.reminders + again.escalations} alerts in "
            f"{(time.perf_counter() - start) * 1000:.0f} ms"
        )
        _check(FollowUpAlert, Notification, AuditEvent, alerts)

        # Two scans racing on two connections over a fresh backlog (alerts are append-only, so
        # the race gets as many new overdue tasks rather than a cleared table).
        overdue_tasks(args.tasks)
        totals: list[int] = []

        def scan() -> None:
            r = followup_scan()
            totals.append(r.reminders + r.escalations)
            connections.close_all()

        threads = [threading.Thread(target=scan) for _ in range(2)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        print(
            f"two concurrent scans: {totals} alerts each, {sum(totals)} in total, "
            f"{time.perf_counter() - start:.2f} s"
        )
        _check(FollowUpAlert, Notification, None, 2 * alerts)
    finally:
        broker.delete(queue)
        connections.close_all()
        teardown_databases(old_config, verbosity=0)


def _check(alert_model, notification_model, audit_model, expected: int) -> None:
    from django.db.models import Count

    alerts = alert_model.objects.count()
    duplicates = (
        alert_model.objects.values("task", "kind").annotate(n=Count("id")).filter(n__gt=1).count()
    )
    from crisisnotes.notifications.models import OutgoingEmail

    notifications = notification_model.objects.count()
    line = (
        f"check: {alerts}/{expected} alerts, {duplicates} duplicates, {notifications} notifications"
        f" ({notification_model.objects.filter(email__isnull=True).count()} without an e-mail),"
        f" {OutgoingEmail.objects.count()} e-mails"
    )
    if audit_model is not None:
        line += f", {audit_model.objects.filter(action='notify').count()} audit rows"
    print(line)


if __name__ == "__main__":
    main()
