"""Where a page's time goes, single-user and in-process: the median time of each page against the
bench floor measured interleaved in the same run, its query count and the queries' share of the
time, and (with `--profile PAGE`) the functions it spends the most time in. Nothing here asserts
a time; it is the profiling companion of pages_bench.py, on the same dataset.

The documentation path's steps are measured too, each on a fresh draft of its own (made before
the clock starts): "new client and session" (the search results' one-step POST as session.js
sends it, its answer carrying the new draft's page; "(plain form)": the post without script,
answered with a redirect), "end session
and sign" (the page's whole form posted with everything the sign rules need, as note.js does),
"signed note" (the read-only page), and the note's htmx side panels ("supervisor record",
"follow-up add", "plan panel edit", "plan panel save"), and "js catalogue" (/jsi18n/, which
every page loads before it renders).

Run: DATABASE_URL=postgres://.../cn_bench .venv/bin/python bench/pages_profile.py \\
         [--repeat 15] [--only "open draft note,autosave"] [--profile "audit log"]
The database must hold bench/dataset.py's data (pages_bench.py or dataset.py builds it).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.bench_settings"
os.environ.setdefault("DJANGO_ENV", "test")
os.environ.setdefault("EMAIL_URL", "dummymail://")
# As in production: DEBUG on (the test environment's default) keeps template debug data and
# every query's SQL, which changes where the time goes.
os.environ.setdefault("DEBUG", "false")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--only", default="", help="comma-separated pages (the floor always)")
    parser.add_argument("--profile", default="", help="page to run under cProfile")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to the pages bench's PostgreSQL database.")

    import django

    django.setup()
    from dataset import _set_authenticators, describe
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from pages_bench import _autosave_payload

    from crisisnotes.accounts.models import User

    settings.ALLOWED_HOSTS = ["*"]
    user = User.objects.get(username="bench01")
    assert user.clinic_id is not None
    # bench01 administers the clinic, so two-factor sign-in is required of it (force_login
    # skips the code, but the pages want an authenticator set up).
    _set_authenticators(clinic_id=user.clinic_id)
    data = describe(clinic_id=user.clinic_id)
    draft = data.drafts[user.username]
    pairs, text_field, version = _autosave_payload(draft)
    browser = Client()
    browser.force_login(user)
    state = {"version": version, "n": 0}

    def autosave():
        state["n"] += 1
        body: dict[str, list[str]] = {}
        for key, value in pairs:
            if key != "version":
                text = f"Invented event, revision {state['n']}" if key == text_field else value
                body.setdefault(key, []).append(text)
        body["version"] = [str(state["version"])]
        # URL-encoded, as note.js posts it (the test client would send multipart).
        answer = browser.post(
            f"/notes/{draft}/save/",
            urlencode(body, doseq=True),
            content_type="application/x-www-form-urlencoded",
            headers={"X-Autosave": "1"},
        )
        if answer.status_code == 200:
            state["version"] = answer.json()["version"]
        return answer

    steps = _documentation_steps(browser, user)
    # As gunicorn's post_worker_init readies a worker before it serves (gunicorn.conf.py): the
    # URL map, translations and templates loaded, the long-lived objects frozen out of the
    # garbage collector's generations. Without it this process measured what a production
    # worker does not run (every full collection walking the whole process).
    from crisisnotes.warmup import warm

    warm()
    gc_ms = _GcClock()
    pages: dict[str, Any] = {
        "floor": lambda: browser.get(f"/bench/floor/?id={data.floor_client_id}"),
        "open draft note": lambda: browser.get(f"/notes/{draft}/"),
        "autosave": autosave,
        "audit log": lambda: browser.get("/clinic/audit/"),
        "client page (60 sessions)": lambda: browser.get(f"/clients/{data.heavy_client_id}/"),
        "client search": lambda: browser.get("/clients/?q=Caller+42"),
        "my work": lambda: browser.get("/work/"),
        "review queue": lambda: browser.get("/team/queue/"),
        "team dashboard": lambda: browser.get("/team/"),
        "team follow-ups": lambda: browser.get("/team/followups/"),
        "js catalogue": lambda: browser.get("/jsi18n/"),  # every page's render-blocking script
        **steps,
    }
    only = {p.strip() for p in args.only.split(",") if p.strip()}
    if only:
        pages = {k: v for k, v in pages.items() if k == "floor" or k in only}
    times: dict[str, list[float]] = {name: [] for name in pages}
    cpu_ms: dict[str, list[float]] = {name: [] for name in pages}
    collect_ms: dict[str, list[float]] = {name: [] for name in pages}
    sql_ms: dict[str, list[float]] = {name: [] for name in pages}
    queries: dict[str, int] = {}
    sizes: dict[str, int] = {}
    for round_ in range(args.repeat + 1):
        for name, fetch in pages.items():
            if isinstance(fetch, _Step):
                fetch.state = fetch.prepare()
            with CaptureQueriesContext(connection) as captured:
                gc_ms.spent = 0.0
                began, began_cpu = time.perf_counter(), time.process_time()
                response = fetch()
                elapsed = (time.perf_counter() - began) * 1000
                cpu = (time.process_time() - began_cpu) * 1000
            if response.status_code not in (200, 302):
                sys.exit(f"{name}: HTTP {response.status_code} {response.get('Location', '')}")
            if round_:  # round 0 warms up
                times[name].append(elapsed)
                cpu_ms[name].append(cpu)
                collect_ms[name].append(gc_ms.spent)
                sql_ms[name].append(sum(float(q["time"]) for q in captured) * 1000)
            queries[name] = len(captured)
            if round_ == args.repeat and name in os.environ.get("SHOW_SQL", "").split(","):
                print(f"-- {name}: {len(captured)} queries")  # SHOW_SQL="page,page"
                for q in captured:
                    print(f"   {float(q['time']) * 1000:5.1f} ms  {q['sql'][:220]}")
            sizes[name] = len(response.content)
    floor = statistics.median(times["floor"])
    print(
        f"{'page':28} {'median ms':>10} {'x floor':>8} {'queries':>8} {'sql ms':>7} "
        f"{'cpu ms':>7} {'gc ms':>6} {'KB':>6}"
    )
    for name in pages:
        median = statistics.median(times[name])
        # cpu: this process's CPU (the view's Python; PostgreSQL's is another process's);
        # gc: the garbage collector's passes within the request, mean (most requests have none).
        print(
            f"{name:28} {median:10.1f} {median / floor:7.1f}x {queries[name]:8d} "
            f"{statistics.median(sql_ms[name]):7.1f} {statistics.median(cpu_ms[name]):7.1f} "
            f"{statistics.mean(collect_ms[name]):6.2f} {sizes[name] / 1024:6.0f}"
        )
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        step: Any = pages[args.profile]
        for _ in range(args.repeat):
            if isinstance(step, _Step):
                profiler.disable()
                step.state = step.prepare()
                profiler.enable()
            step()
        profiler.disable()
        lines = int(os.environ.get("PROFILE_LINES", "45"))
        order = os.environ.get("PROFILE_SORT", "cumulative")  # or "tottime"
        if os.environ.get("PROFILE_DUMP"):  # a file for pstats or snakeviz
            profiler.dump_stats(os.environ["PROFILE_DUMP"])
        pstats.Stats(profiler).sort_stats(order).print_stats(lines)


class _GcClock:
    """The milliseconds the garbage collector spends, summed into `spent` (gc.callbacks)."""

    def __init__(self) -> None:
        import gc

        self.spent, self._began = 0.0, 0.0
        gc.callbacks.append(self._callback)

    def _callback(self, phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            self._began = time.perf_counter()
        else:
            self.spent += (time.perf_counter() - self._began) * 1000


class _Step:
    """A request measured on state made for it before the clock starts (`prepare`)."""

    def __init__(self, prepare: Any, fetch: Any) -> None:
        self.prepare, self.fetch, self.state = prepare, fetch, None

    def __call__(self) -> Any:
        return self.fetch(self.state)


def _documentation_steps(browser: Any, user: Any) -> dict[str, _Step]:
    """The requests of bench/documentation_speed.py's calls that are not plain page loads."""
    from datetime import timedelta

    from django.utils import timezone

    from sessions.models import CrisisSession
    from sessions.services.clients import client_create
    from sessions.services.notes import note_create
    from tests.sessions.note_helpers import complete_data

    def draft() -> CrisisSession:
        client = client_create(user=user, alias=f"Profile {time.time_ns()}", request=None)
        return note_create(author=user, client=client, modality="phone", request=None)

    def low_risk(note: CrisisSession) -> dict[str, Any]:
        """The low-risk call's page as posted: every screening answer No, agitation 1."""
        no = {f"safety-screen-{q}": "no" for q in ("q1", "q2", "q6")}
        return complete_data(note, **no, **{"safety-means-agitation": "1"})

    def autosaved(note: CrisisSession) -> tuple[CrisisSession, dict[str, Any]]:
        """A draft whose page was autosaved up to the last field (the follow-up stage's
        disposition), and the page as the browser posts it at "End session and sign"."""
        from sessions.services.notes import note_autosave

        page = low_risk(note)
        earlier = {**page, "follow_up-disposition": ""}
        saved = note_autosave(note=note, user=user, base_version=note.version, data=earlier)
        return saved, {**page, "version": str(saved.version), "confirmed": "1"}

    def sign_body(page: dict[str, Any], stages: list[str] | None) -> str:
        """URL-encoded, as note.js sends it: the whole page, or (`stages`) only those stages'
        fields and the fields outside the stages, as an autosave does."""
        from sessions.services.notes import stage_keys

        if stages is not None:
            inside = [f"{key}-" for key in stage_keys()]
            page = {
                k: v
                for k, v in page.items()
                if not k.startswith(tuple(inside)) or k.startswith(tuple(f"{s}-" for s in stages))
            }
            page["stages"] = stages
        return urlencode(page, doseq=True)

    def sign_posted(state: tuple[CrisisSession, str]) -> Any:
        return browser.post(
            f"/notes/{state[0].pk}/end-and-sign/",
            state[1],
            content_type="application/x-www-form-urlencoded",
            HTTP_ACCEPT="application/json",
        )

    def signed() -> CrisisSession:
        note = draft()
        answer = browser.post(
            f"/notes/{note.pk}/end-and-sign/", low_risk(note), HTTP_ACCEPT="application/json"
        )
        if answer.status_code != 200:
            sys.exit(f"not signed: {answer.content.decode()[:600]}")
        return note

    supervisor = user  # bench01 supervises too
    record = {
        "supervisor-record-supervisor": str(supervisor.pk),
        "supervisor-record-method": "phone",
        "supervisor-record-notified_at": "",
        "supervisor-record-response": "Agree: call back in an hour.",
    }
    plan = {"warning_signs": "Stop answering texts", "coping": "Walk the dog", "environment": "x"}
    task = {
        "followup-due_at": (timezone.localtime() + timedelta(hours=20)).strftime("%Y-%m-%dT%H:%M"),
        "followup-method": "call",
        "followup-assigned_to": str(user.pk),
    }
    htmx = {"HTTP_HX_REQUEST": "true"}

    def new_client() -> dict[str, str]:
        return {"alias": f"Caller {time.time_ns()}", "start_session": "on", "modality": "phone"}

    return {
        # As session.js sends it since 2026-12-02 (URL-encoded, asking for JSON): the answer
        # carries the new draft's page, shown in place. The plain form's post (no script)
        # answers with a redirect to it.
        "new client and session": _Step(
            lambda: None,
            lambda _s: browser.post(
                "/clients/new/",
                urlencode(new_client()),
                content_type="application/x-www-form-urlencoded",
                HTTP_ACCEPT="application/json",
            ),
        ),
        "new client and session (plain form)": _Step(
            lambda: None, lambda _s: browser.post("/clients/new/", new_client())
        ),
        "end session and sign": _Step(
            lambda: (n := draft(), low_risk(n)),
            lambda s: browser.post(
                f"/notes/{s[0].pk}/end-and-sign/", s[1], HTTP_ACCEPT="application/json"
            ),
        ),
        # As note.js sends it, the page autosaved up to its last field (URL-encoded; the step
        # above posts a fresh draft's whole page as multipart, as the browser did until
        # 2026-11-30): the whole page (until 2026-12-01), and the changed stage only.
        "sign (whole page)": _Step(
            lambda: (
                (a := autosaved(draft()))[0],
                sign_body(a[1], None),
            ),
            sign_posted,
        ),
        "sign (changed stage)": _Step(
            lambda: (
                (a := autosaved(draft()))[0],
                sign_body(a[1], ["follow_up"]),
            ),
            sign_posted,
        ),
        "signed note": _Step(signed, lambda n: browser.get(f"/notes/{n.pk}/")),
        "supervisor record": _Step(
            draft,
            lambda n: browser.post(f"/safety/notes/{n.pk}/supervisor-record/", record, **htmx),
        ),
        "follow-up add": _Step(
            draft, lambda n: browser.post(f"/notes/{n.pk}/followups/", task, **htmx)
        ),
        "plan panel edit": _Step(
            draft, lambda n: browser.get(f"/safety/notes/{n.pk}/plan/?edit=1", **htmx)
        ),
        "plan panel save": _Step(
            draft, lambda n: browser.post(f"/safety/notes/{n.pk}/plan/", plan, **htmx)
        ),
    }


if __name__ == "__main__":
    main()
