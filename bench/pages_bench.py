"""Benchmark of the busy pages under 20 concurrent logged-in clients, printed as ratios against a
floor measured in the same run (so the numbers compare across machines; nothing here asserts a
time).

It serves the app with gunicorn under production settings (DJANGO_ENV=production, manifest static
files after a real collectstatic, secure cookies behind X-Forwarded-Proto, persistent database
connections unless `--conn-max-age 0`), logs in `--clients` invented counselors (each also a
supervisor and a clinic admin, so every page is theirs to see) and has each of them walk the pages
below in a fresh random order, round after round, so every page — the floor included — is
measured interleaved under the same load:

- floor: `/bench/floor/?id=N` (bench/bench_urls.py, served only by the bench): the same
  authenticated request through the whole middleware stack, running one indexed query;
- client search, the page of a client with 60 sessions, the counselor's own draft note opened,
  an autosave of that draft (the POST note.js sends after typing in one stage), my work, the
  review queue, the team dashboard, the team's follow-ups and the audit log.

Per page it prints p50/p95/p99, errors (any status but 200, or no answer) and p95 / floor p95.
Targets (issue 15): every page p95 <= 3x floor, autosave p95 <= 2x, 0 errors.

Run: DATABASE_URL=postgres://.../cn_bench .venv/bin/python bench/pages_bench.py --scale 0.01
The database must be migrated and is kept: the dataset (bench/dataset.py) is built on the first
run and reused afterwards. Redis must run (the readiness of the app is not needed, but the app
connects to the broker when it queues work).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisisnotes.settings")
os.environ.setdefault("DJANGO_ENV", "test")
os.environ.setdefault("EMAIL_URL", "dummymail://")

TARGET = {"autosave": 2.0}
DEFAULT_TARGET = 3.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _server_env(args: argparse.Namespace, tmp: Path) -> dict[str, str]:
    return server_env(tmp, conn_max_age=args.conn_max_age)


def server_env(tmp: Path, *, conn_max_age: int | None = None) -> dict[str, str]:
    """The environment of a gunicorn serving the app as production does (documentation_speed.py
    uses it too)."""
    env = dict(os.environ)
    env.update(
        DJANGO_ENV="production",
        DJANGO_SETTINGS_MODULE="bench.bench_settings",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="127.0.0.1",
        STATIC_ROOT=str(tmp / "static"),
        PRIVATE_STORAGE_DIR=str(tmp / "private"),
        # Production refuses a non-SMTP backend; nothing the driven pages do sends mail now
        # (e-mail goes through the outbox and Celery, and no worker runs here).
        EMAIL_URL="smtp://127.0.0.1:2525",
        SECURE_HSTS_SECONDS="0",
        PYTHONPATH=str(ROOT),
    )
    if conn_max_age is not None:
        env["CONN_MAX_AGE"] = str(conn_max_age)
    return env


@contextmanager
def production_server(
    env: dict[str, str], *, workers: int, threads: int = 1, port: int | None = None
) -> Iterator[str]:
    """collectstatic into env's STATIC_ROOT, then gunicorn under env until the block ends;
    yields the base URL once /healthz answers."""
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    port = port or free_port()
    server = subprocess.Popen(
        [
            str(Path(python).parent / "gunicorn"),
            "crisisnotes.wsgi:application",
            f"--bind=127.0.0.1:{port}",
            f"--workers={workers}",
            f"--threads={threads}",
            "--forwarded-allow-ips=*",
            "--log-level=warning",
            f"--chdir={ROOT}",
        ],
        env=env,
        # gunicorn.conf.py's access log (as in production) goes to stdout: not the bench's output.
        stdout=subprocess.DEVNULL,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base)
        yield base
    finally:
        server.terminate()
        server.wait(timeout=30)


class Browser:
    """One logged-in client. Cookies are kept by hand: the production cookies are Secure and
    requests (rightly) never sends those over plain HTTP, while here TLS ends at the 'proxy'
    this client impersonates by sending X-Forwarded-Proto: https."""

    def __init__(self, base: str, username: str, password: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.cookies: dict[str, str] = {}
        self.headers = {"X-Forwarded-Proto": "https", "Referer": base.replace("http:", "https:")}
        page = self.get("/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert token, "no CSRF token on the login page"
        answer = self.post(
            "/login/",
            {
                # allauth names the field "login"
                "login": username,
                "password": password,
                "csrfmiddlewaretoken": token.group(1),
            },
        )
        if answer.status_code == 302 and "/2fa/authenticate" in answer.headers["Location"]:
            # Two-factor sign-in (required of clinic admins): the authenticator app's code.
            from dataset import bench_totp_code

            step = self.get(answer.headers["Location"])
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', step.text)
            assert token, "no CSRF token on the two-factor page"
            answer = self.post(
                answer.headers["Location"],
                {"code": bench_totp_code(), "csrfmiddlewaretoken": token.group(1)},
            )
        # Production names its cookies "__Host-sessionid" and "__Host-csrftoken".
        if answer.status_code != 302 or not any(c.endswith("sessionid") for c in self.cookies):
            raise RuntimeError(
                f"login of {username} failed: {answer.status_code} {answer.url} "
                f"{re.findall(r'errorlist[^<]*<li>([^<]+)', answer.text)}"
            )

    def _keep(self, response: requests.Response) -> requests.Response:
        for cookie in response.cookies:
            self.cookies[cookie.name] = cookie.value or ""
        return response

    def _headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        headers = dict(self.headers)
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        csrf = next((v for k, v in self.cookies.items() if k.endswith("csrftoken")), None)
        if csrf:
            headers["X-CSRFToken"] = csrf
        headers.update(extra or {})
        return headers

    def get(self, path: str) -> requests.Response:
        response = self.http.get(
            self.base + path, headers=self._headers(), allow_redirects=False, timeout=60
        )
        self.http.cookies.clear()
        return self._keep(response)

    def post(self, path: str, data, extra: dict[str, str] | None = None) -> requests.Response:
        response = self.http.post(
            self.base + path,
            data=data,
            headers=self._headers(extra),
            allow_redirects=False,
            timeout=60,
        )
        self.http.cookies.clear()
        return self._keep(response)


def _autosave_payload(note_id: int) -> tuple[list[tuple[str, str]], str, int]:
    """What note.js posts for the draft as stored now when the counselor types in one stage
    (exploration's precipitating event): that stage's fields and `stages=exploration` — note.js
    posts only the stages changed since its last confirmed save —, the name of the free-text
    field to change on every save, and the draft's version."""
    from sessions.models import CrisisSession
    from sessions.services.notes import note_form_data, section_relations

    note = CrisisSession.objects.select_related(*section_relations()).get(pk=note_id)
    pairs: list[tuple[str, str]] = []
    for name, value in note_form_data(note=note).items():
        if not name.startswith("exploration-"):
            continue
        for item in value if isinstance(value, list) else [value]:
            pairs.append((name, item))
    pairs.append(("stages", "exploration"))
    text_field = next(name for name, _ in pairs if name.endswith("precipitating_event"))
    return pairs, text_field, note.version


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.01, help="dataset size if built now")
    parser.add_argument("--clients", type=int, default=20, help="concurrent logged-in clients")
    parser.add_argument("--rounds", type=int, default=15, help="rounds over every page each")
    parser.add_argument("--workers", type=int, default=5, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument(
        "--conn-max-age", type=int, default=None, help="override CONN_MAX_AGE (default: settings)"
    )
    parser.add_argument("--only", default="", help="comma-separated pages to drive (and floor)")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a migrated PostgreSQL database of its own.")

    import django

    django.setup()
    from dataset import ensure_dataset

    data = ensure_dataset(scale=args.scale)
    usernames = data.usernames[: args.clients]
    if len(usernames) < args.clients:
        sys.exit(f"the dataset has {len(data.usernames)} bench users")
    payloads = {name: _autosave_payload(data.drafts[name]) for name in usernames}
    from django.db import connection

    connection.close()  # the bench process holds no connection while it measures

    with tempfile.TemporaryDirectory(prefix="pages-bench-") as tmp_name:
        tmp = Path(tmp_name)
        env = _server_env(args, tmp)
        with production_server(env, workers=args.workers, threads=args.threads) as base:
            _run(args, base, data, usernames, payloads)


def _wait_until_up(base: str) -> None:
    for _ in range(120):
        try:
            if requests.get(base + "/healthz", timeout=10).status_code == 200:
                return
        except requests.RequestException:  # still booting
            pass
        time.sleep(0.5)
    raise RuntimeError("gunicorn did not come up")


def _pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def _table(title: str, times: dict[str, list[float]], errors: dict[str, int]) -> None:
    floor_p95 = _pct(times["floor"], 95)
    print(f"\n{title}")
    print(f"{'page':28} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7} {'p95/floor':>10}")
    for page in sorted(times, key=lambda p: (p != "floor", p)):
        values = times[page]
        ratio = _pct(values, 95) / floor_p95
        target = TARGET.get(page, DEFAULT_TARGET) if page != "floor" else None
        verdict = "" if target is None else ("ok" if ratio <= target else f"> {target:g}x")
        print(
            f"{page:28} {_pct(values, 50):8.0f} {_pct(values, 95):8.0f} {_pct(values, 99):8.0f} "
            f"{errors[page]:7d} {ratio:9.2f}x {verdict}"
        )


def _run(args, base, data, usernames, payloads) -> None:
    from dataset import BENCH_PASSWORD

    print(f"logging in {len(usernames)} clients against gunicorn ({args.workers} workers)")
    browsers = {name: Browser(base, name, BENCH_PASSWORD) for name in usernames}
    suffix = 0

    def pages_for(name: str):
        draft = data.drafts[name]
        pairs, text_field, _ = payloads[name]
        return {
            "floor": lambda b: b.get(f"/bench/floor/?id={data.floor_client_id}"),
            "client search": lambda b: b.get(f"/clients/?q=Caller+{random.randrange(10, 99)}"),
            "client page (60 sessions)": lambda b: b.get(f"/clients/{data.heavy_client_id}/"),
            "open draft note": lambda b: b.get(f"/notes/{draft}/"),
            "autosave": lambda b: autosave(b, name, draft, pairs, text_field),
            "my work": lambda b: b.get("/work/"),
            "review queue": lambda b: b.get("/team/queue/"),
            "team dashboard": lambda b: b.get("/team/"),
            "team follow-ups": lambda b: b.get("/team/followups/"),
            "audit log": lambda b: b.get("/clinic/audit/"),
        }

    versions = {name: payloads[name][2] for name in usernames}

    def autosave(browser, name, draft, pairs, text_field):
        nonlocal suffix
        suffix += 1
        body = [
            (key, f"Invented event, revision {suffix}" if key == text_field else value)
            for key, value in pairs
            if key != "version"
        ]
        body.append(("version", str(versions[name])))
        answer = browser.post(f"/notes/{draft}/save/", body, {"X-Autosave": "1"})
        if answer.status_code == 200:
            versions[name] = answer.json()["version"]
        return answer

    only = {p.strip() for p in args.only.split(",") if p.strip()}
    times: dict[str, list[float]] = defaultdict(list)
    server: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, int] = defaultdict(int)
    samples: dict[str, str] = {}
    lock = threading.Lock()
    start_gate = threading.Barrier(len(usernames))

    def client(name: str) -> None:
        browser = browsers[name]
        pages = pages_for(name)
        if only:
            pages = {k: v for k, v in pages.items() if k == "floor" or k in only}
        rng = random.Random(name)
        start_gate.wait()
        for round_no in range(args.rounds + 1):  # round 0 warms up and is not counted
            order = list(pages.items())
            rng.shuffle(order)
            for page, call in order:
                began = time.perf_counter()
                try:
                    answer = call(browser)
                    ok = answer.status_code == 200
                    status = str(answer.status_code)
                    spent = float(answer.headers.get("X-Bench-Server-Ms", "nan")) / 1000
                except requests.RequestException as error:
                    ok, status, spent = False, type(error).__name__, float("nan")
                elapsed = time.perf_counter() - began
                if round_no == 0:
                    continue
                with lock:
                    times[page].append(elapsed)
                    if spent == spent:  # not NaN
                        server[page].append(spent)
                    if not ok:
                        errors[page] += 1
                        samples.setdefault(page, status)

    threads = [threading.Thread(target=client, args=(name,)) for name in usernames]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    total = sum(len(v) for v in times.values())
    print(
        f"{total:,} measured requests in {wall:.0f} s ({total / wall:.1f}/s), "
        f"{len(usernames)} clients x {args.rounds} rounds"
    )

    _table("as the clients see it (with the wait for a free worker)", times, errors)
    _table("inside the worker (X-Bench-Server-Ms: middleware and view)", server, errors)
    for page, status in samples.items():
        print(f"  {page}: first error {status}")


if __name__ == "__main__":
    main()
