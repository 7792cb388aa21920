"""Benchmarks of the PDF export, printed as ratios against a floor measured in the same run (so
the numbers compare across machines; nothing here asserts a time).

1. One session record: `record_pdf` (template + queries + WeasyPrint) versus plain WeasyPrint
   on the very same HTML with the same static-only fetcher (the floor).
2. Bulk export throughput (records/s) of ONE job of --records records through real Celery
   workers on Redis, with 1 and then 2 worker processes (the job's chunks are shared between
   them), versus rendering records in this process one after another. Target (issue 15): 2
   workers ≥ 1.7× the throughput of 1.
3. The machine's own ceiling for that ratio, in the same run: plain WeasyPrint on one record's
   HTML in 2 processes against 1 (no database, no Celery). On a machine whose cores are shared
   with PostgreSQL and other work this is below 2×, and the workers' ratio cannot exceed it.

Run: DATABASE_URL=postgres://... [REDIS_URL=redis://127.0.0.1:6379/N] \
         .venv/bin/python bench/pdf_bench.py [--records 1000 --jobs 1 --repeat 7]
It creates and drops its own database (test_<name>) next to the one DATABASE_URL names.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisisnotes.settings")
os.environ.setdefault("DJANGO_ENV", "test")
os.environ.setdefault("EMAIL_URL", "dummymail://")
if "REDIS_URL" in os.environ:
    os.environ.setdefault("CELERY_BROKER_URL", os.environ["REDIS_URL"])


def _timed(*fns: Callable[[], object], repeat: int) -> list[float]:
    """Median wall time of each function over `repeat` calls, after one warm-up call each. The
    calls are interleaved (a, b, c, a, b, c, ...) so a change in the machine's load during the
    run weighs on every function alike."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for fn, spent in zip(fns, times, strict=True):
            start = time.perf_counter()
            fn()
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) for spent in times]


def _render_for(html: str, seconds: float) -> int:
    """Render `html` with plain WeasyPrint again and again for `seconds`; how many it did."""
    from crisisnotes.pdf import StaticOnlyURLFetcher, pdf_render

    end = time.perf_counter() + seconds
    done = 0
    while time.perf_counter() < end:
        pdf_render(html=html, fetcher=StaticOnlyURLFetcher())
        done += 1
    return done


def _ceiling(html: str, seconds: float) -> tuple[float, float]:
    """Records/s of plain WeasyPrint in 1 and in 2 forked processes (the database connection
    is closed first: the children never touch it)."""
    from django.db import connections

    connections.close_all()
    context = multiprocessing.get_context("fork")
    rates = []
    for processes in (1, 2):
        with context.Pool(processes) as pool:
            counts = pool.starmap(_render_for, [(html, seconds)] * processes)
        rates.append(sum(counts) / seconds)
    return rates[0], rates[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000, help="records per bulk job")
    parser.add_argument("--jobs", type=int, default=1, help="bulk jobs per throughput run")
    parser.add_argument(
        "--floor-records", type=int, default=24, help="records rendered in-process for the floor"
    )
    parser.add_argument("--repeat", type=int, default=7, help="repeats of the single record")
    parser.add_argument(
        "--ceiling-seconds", type=float, default=10, help="seconds per plain-render ceiling run"
    )
    args = parser.parse_args()

    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server (the workers share its database).")

    import django

    django.setup()
    from django.conf import settings
    from django.test.utils import setup_databases, teardown_databases

    from crisisnotes.accounts.models import User
    from crisisnotes.celery import app as celery_app
    from crisisnotes.pdf import StaticOnlyURLFetcher, pdf_render
    from sessions.models import ExportJob
    from sessions.services.exports import export_bulk_request, record_html, record_pdf
    from tests.factories import ClinicFactory, NoteFactory, TeamFactory, UserFactory
    from tests.workers import celery_worker

    settings.PRIVATE_STORAGE_DIR = Path(tempfile.mkdtemp(prefix="crisisnotes-bench-"))
    queue = f"bench-{uuid.uuid4().hex[:8]}"
    celery_app.conf.task_default_queue = queue
    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        clinic = ClinicFactory(name="Bench Clinic")
        supervisor = UserFactory(clinic=clinic, is_supervisor=True)
        team = TeamFactory(clinic=clinic, supervisor=supervisor)
        # factory-boy's factories are not typed as the models they build.
        counselor = cast(User, UserFactory(clinic=clinic, team=team))
        admin = cast(User, UserFactory(clinic=clinic, is_counselor=False, is_clinic_admin=True))
        notes = [NoteFactory.create(author=counselor, signed=True) for _ in range(args.records)]

        # 1. One record versus plain WeasyPrint on the same HTML.
        note = notes[0]
        html = record_html(note=note, generated_by=admin)
        plain, ours, html_only = _timed(
            lambda: pdf_render(html=html, fetcher=StaticOnlyURLFetcher()),
            lambda: record_pdf(note=note, generated_by=admin),
            lambda: record_html(note=note, generated_by=admin),
            repeat=args.repeat,
        )
        print(f"single record: plain WeasyPrint {plain * 1000:.0f} ms (floor)")
        print(f"single record: record_pdf        {ours * 1000:.0f} ms = {ours / plain:.2f}× floor")
        print(
            f"single record: of which record_html (queries + templates) {html_only * 1000:.0f} ms"
            f" = {html_only / plain:.2f}× floor"
        )

        # 2. Bulk throughput: in-process floor, then 1 and 2 worker processes.
        sample = notes[: args.floor_records]
        start = time.perf_counter()
        for n in sample:
            record_pdf(note=n, generated_by=admin)
        floor = len(sample) / (time.perf_counter() - start)
        print(f"bulk: in-process sequential render {floor:.1f} records/s (floor)")

        env = {"PRIVATE_STORAGE_DIR": str(settings.PRIVATE_STORAGE_DIR)}
        results = {}
        for workers in (1, 2):
            ExportJob.objects.all().delete()
            with _workers(celery_worker, workers, queue, env):
                start = time.perf_counter()
                for _ in range(args.jobs):
                    export_bulk_request(actor=admin)
                while ExportJob.objects.exclude(status__in=["done", "failed"]).exists():
                    time.sleep(0.05)
                elapsed = time.perf_counter() - start
            failed = ExportJob.objects.filter(status="failed").count()
            rate = args.jobs * len(notes) / elapsed
            results[workers] = rate
            print(
                f"bulk: {workers} worker{'s' if workers > 1 else ' '} {rate:.1f} records/s "
                f"= {rate / floor:.2f}× floor ({args.jobs} jobs × {len(notes)} records"
                f"{f', {failed} FAILED' if failed else ''})"
            )
        print(f"bulk: 2 workers / 1 worker = {results[2] / results[1]:.2f}× (target ≥ 1.7×)")

        # 3. What the machine allows: plain renders in 2 processes against 1, same run.
        one, two = _ceiling(html, args.ceiling_seconds)
        print(
            f"ceiling: plain WeasyPrint 1 process {one:.1f}/s, 2 processes {two:.1f}/s "
            f"= {two / one:.2f}× (the most 2 workers can gain here)"
        )
    finally:
        teardown_databases(old_config, verbosity=0)


class _workers:
    """Start n worker processes on one queue (each its own node name); stop them after."""

    def __init__(self, factory: Any, n: int, queue: str, env: dict[str, str]) -> None:
        self.contexts = [factory(queue=queue, extra_env=env, name=f"{queue}-{i}") for i in range(n)]

    def __enter__(self) -> None:
        for context in self.contexts:
            context.__enter__()

    def __exit__(self, *exc: object) -> None:
        for context in reversed(self.contexts):
            context.__exit__(*exc)


if __name__ == "__main__":
    main()
