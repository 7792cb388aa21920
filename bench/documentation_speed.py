"""How fast a call is documented: Chromium scripts a low-risk and a high-risk call from "find a
client" to "signed" and prints clicks, keystrokes, full page loads and machine time as a ratio
to a plain page load measured in the same run, plus the note page's height and control count.
Nothing here asserts a time: it is a benchmark, not a test.

- Low-risk call: a new anonymous caller, every C-SSRS answer No, one line per required field,
  keyboard first (Tab, Alt+<n>, Space; one click on "End session and sign").
- High-risk call: the returning demo client, plan with intent (C-SSRS 1–5 yes), firearms at
  home, safety plan created in the note's panel, supervisor consulted (recorded by phone),
  follow-up task, "End session and sign".

Two machine times are printed, each as a ratio to its own floor (a plain page load of the client
search page, measured the same way in the same run):

Each call is made in the tab the floor was measured in, as a counselor takes call after call in
the tab the app is open in. Until 2026-11-30 21:40 UTC each call opened a tab of its own
(`--new-tab` still does): its first page then loaded into a new renderer process with an empty
memory cache, ≈ 180 ms against the floor's ≈ 80 ms for the same page, a cost of the script's
new tab that the floor, reloaded in its tab, never paid.

- **app wait** (the one compared with the issue's targets): the time the counselor waits on the
  app, measured in the browser. It is the union (overlaps counted once) of
  - every full page load: navigation start → load event (Navigation Timing; a form POST that
    redirects counts from the POST);
  - "Start session" / "start a session now": from the form's submit to the end of the frame
    that first paints the new draft, shown in place of the page the button was on (since
    2026-12-02: session.js sends the form, the answer carries the draft's page; before, a POST,
    its redirect and the draft's full page load);
  - every htmx request the counselor triggers (client search results, supervisor record,
    follow-up task, safety plan panel): `htmx:beforeRequest` → `htmx:afterSwap` (the answer
    is in the DOM; not settle, which a click that navigates away may never let happen). The
    search's 250 ms typing debounce (`delay:`) is before the request and is not counted; htmx
    polls (`hx-trigger="every …"`, the `X-Live-Poll` header, any
    request with no triggering event) are not waits and are not counted;
  - "End session and sign": from the form's submit (after the confirm dialog) through note.js's
    flush of a pending save and the sign request (save + sign + hash; its answer carries the
    signed note's page) to the end of the frame that first paints the signed note, shown in
    place of the draft (since 2026-12-02; before, the signed page's load, or now again when
    the answer carries no page);
  - any long task (the browser's main thread busy ≥ 50 ms: Long Tasks API) outside those.
  Autosaves that run in the background while the counselor types are **not** waits and are not
  counted (unless "sign" has to flush one first: then it is inside the sign interval). Key
  handling shorter than 50 ms per event is not counted either.
- **scripted wall time**: the script's wall-clock time from the first page to the signed page,
  with no human pauses. It includes Playwright's per-action round trips to Chromium (CDP): every
  Tab press, every `tab_to` focus check (one `evaluate` per step), every click's actionability
  checks. That overhead is neither the counselor nor the app, and under load it dominates.

`--breakdown` says where the app wait went (the median run of each call, traced in Chromium):
per wait interval, the worker's time on the app requests started in it (X-Bench-Server-Ms), the
renderer main thread's own time by kind (HTML parse, CSS parse, script, style, layout, paint and
composite, other: loaders, IPC, uninstrumented task time) and the rest (network, waiting on the
server, idle); for each page load its Navigation Timing phases and its resources (transfer size 0:
from the browser's cache; which are render-blocking); the script that ran longest in it; then
the same split of the whole wait. Tracing slows the browser: compare the figures of plain runs.

Run: DATABASE_URL=postgres://... .venv/bin/python bench/documentation_speed.py [--repeat 3]
It creates and drops its own database (test_<name>) next to the one DATABASE_URL names and
serves the app as users get it: gunicorn in its own processes under production settings
(pages_bench.py's server; bench/README.md says what that holds). `--in-thread` keeps the old
live-server thread in this process under test settings, to compare. Chromium is
/usr/bin/chromium (CHROMIUM_PATH).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisisnotes.settings")
os.environ.setdefault("DJANGO_ENV", "test")
os.environ.setdefault("EMAIL_URL", "dummymail://")
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # sync Playwright + the ORM

PASSWORD = "bench-documentation-1"  # noqa: S105 — the throwaway demo users of its own database
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@dataclass
class Counts:
    clicks: int = 0
    keystrokes: int = 0
    loads: int = 0
    seconds: float = 0.0
    wait_ms: float = 0.0
    height: int = 0
    controls: int = 0
    notes: list[str] = field(default_factory=list)


# Runs in every document of the bench's tabs before the page's own scripts; keeps what the
# counselor waited on in sessionStorage (per tab, kept across the tab's navigations), as absolute
# times (timeOrigin + now) so intervals of successive documents can be merged.
WAIT_RECORDER = """
(() => {
  if (window.top !== window) return;
  const KEY = "bench-waits";
  const now = () => performance.timeOrigin + performance.now();
  const read = () => JSON.parse(sessionStorage.getItem(KEY) || '{"waits": [], "pending": null}');
  const write = (state) => sessionStorage.setItem(KEY, JSON.stringify(state));
  const add = (kind, start, end, detail) => {
    const state = read();
    state.waits.push({kind, start, end, detail: detail || ""});
    write(state);
  };
  window.__benchLoaded = false;
  window.addEventListener("load", () => setTimeout(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const end = performance.timeOrigin + (nav ? nav.loadEventEnd : performance.now());
    const ms = (value) => `${Math.round(value)} ms`;
    const detail = nav ? `${location.pathname}: server answer ${ms(nav.responseStart)}, ` +
      `DOM ready ${ms(nav.domContentLoadedEventEnd)}, load ${ms(nav.loadEventEnd)}; ` +
      performance.getEntriesByType("resource").filter((r) => r.startTime < nav.loadEventEnd)
        .map((r) => `${r.name.split("/").pop()} ${ms(r.startTime)}+${ms(r.duration)}`)
        .join(", ") : "";
    // For --breakdown: the phases of this load and its resources (relative to its start),
    // and a user-timing mark whose trace timestamp ties the trace's clock to this one.
    const phases = nav ? Object.fromEntries(["redirectStart", "redirectEnd", "fetchStart",
      "requestStart", "responseStart", "responseEnd", "domInteractive",
      "domContentLoadedEventStart", "domContentLoadedEventEnd", "loadEventStart",
      "loadEventEnd", "transferSize", "decodedBodySize"].map((k) => [k, nav[k]])) : null;
    const resources = performance.getEntriesByType("resource")
      .filter((r) => nav && r.startTime < nav.loadEventEnd)
      .map((r) => ({name: r.name.split("/").pop(), start: r.startTime, end: r.responseEnd,
                    transferSize: r.transferSize, blocking: r.renderBlockingStatus || ""}));
    const sync = performance.mark("bench-sync");
    const entry = {kind: "load", start: performance.timeOrigin + (nav ? nav.startTime : 0), end,
                   detail, path: location.pathname, phases, resources,
                   sync: performance.timeOrigin + sync.startTime};
    const saved = read();
    saved.waits.push(entry);
    write(saved);
    const state = read();
    if (state.pending !== null) {  // "sign" or "open": from the submit to this page's load
      state.waits.push({kind: state.pendingKind || "sign", start: state.pending, end});
      state.pending = null;
      write(state);
    }
    window.__benchLoaded = true;
  }, 0));
  document.addEventListener("submit", (event) => {
    const sign = event.submitter && event.submitter.id === "end-sign-button";
    const open = event.target.matches && event.target.matches("form[data-open-in-place]");
    if (sign || open) {
      const state = read();
      state.pending = now();
      state.pendingKind = sign ? "sign" : "open";
      write(state);
      window.__benchLoaded = false;
    }
  }, true);
  // "sign" when the signed note is shown in place of the draft, "open" when a new session's
  // draft is shown in place of the page its "Start session" was on (no page load, since
  // 2026-12-02): from the submit to the end of the frame that first paints it (a task queued
  // from that frame's callback).
  document.addEventListener("crisisnotes:page-shown", () => requestAnimationFrame(() => {
    setTimeout(() => {
      const state = read();
      if (state.pending !== null) {
        state.waits.push({kind: state.pendingKind || "sign", start: state.pending, end: now(),
                          detail: `${location.pathname}: shown in place`});
        state.pending = null;
        write(state);
      }
      window.__benchLoaded = true;
    }, 0);
  }));
  const started = new WeakMap();
  const polled = (elt) => /\\bevery\\b/.test((elt && elt.getAttribute("hx-trigger")) || "");
  // A wait is a request the counselor's own action triggered; polls (an "every" trigger, the
  // X-Live-Poll header, no triggering event) run in the background.
  const background = (detail) => {
    const config = detail.requestConfig || {};
    const headers = config.headers || {};
    return polled(detail.elt) || headers["X-Live-Poll"] === "1" || !config.triggeringEvent;
  };
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (!background(event.detail)) started.set(event.detail.xhr, now());
  });
  const finish = (event, end) => {
    const start = started.get(event.detail.xhr);
    if (start !== undefined) {
      started.delete(event.detail.xhr);
      const path = (event.detail.requestConfig || {}).path || "";
      add("htmx", start, end === undefined ? now() : end, path);
    }
  };
  document.addEventListener("htmx:afterSwap", (event) => finish(event));
  document.addEventListener("htmx:afterRequest", (event) => {
    // An error or a request that swaps nothing: it ends with its answer.
    const answered = now();
    if (!event.detail.successful) finish(event, answered);
    else setTimeout(() => finish(event, answered), 1000);  // a no-op once swapped
  });
  try {
    new PerformanceObserver((list) => {
      for (const task of list.getEntries()) {
        add("longtask", performance.timeOrigin + task.startTime,
            performance.timeOrigin + task.startTime + task.duration);
      }
    }).observe({type: "longtask", buffered: true});
  } catch (error) { /* no Long Tasks API: none counted */ }
})();
"""


SERVER_LOG: list[str] = []  # "METHOD /path N ms" of every app request (--detail)
# Every app request's start (epoch ms, as the waits' times), method, path and worker time
# (--breakdown).
SERVER_REQUESTS: list[dict[str, Any]] = []


def _union_ms(waits: list[dict[str, Any]]) -> float:
    """Total time covered by the intervals, overlaps counted once."""
    total, end = 0.0, float("-inf")
    for wait in sorted(waits, key=lambda w: w["start"]):
        start, stop = max(wait["start"], end), wait["end"]
        if stop > start:
            total += stop - start
        end = max(end, stop)
    return total


def _wait_recorded(page: Any) -> None:
    """Until the recorder has written the last wait (the frame after a page shown in place, or a
    load's task after its load event). Asked from here (`evaluate` runs through the DevTools
    protocol): `wait_for_function` polls by evaluating its text in the page, which the app's
    CSP (no 'unsafe-eval') refuses whenever the first answer is not yet true."""
    deadline = time.monotonic() + 30
    while not page.evaluate("window.__benchLoaded === true"):
        if time.monotonic() > deadline:
            raise SystemExit("the page's last wait was never recorded")
        time.sleep(0.01)


def app_wait_ms(page: Any, *, detail: bool = False) -> tuple[float, dict[str, str]]:
    """The counselor's wait on the app in this tab so far (after its last page's load is
    recorded), and each kind's count and time (kinds overlap: "sign" holds the signed page's
    "load")."""
    _wait_recorded(page)
    state = page.evaluate("JSON.parse(sessionStorage.getItem('bench-waits') || '{}')")
    waits = state.get("waits", [])
    if detail:
        for wait in sorted(waits, key=lambda w: w["start"]):
            took = wait["end"] - wait["start"]
            print(f"    {wait['kind']:8} {took:7.0f} ms  {wait.get('detail', '')}")
    if detail:
        print("    server:", "; ".join(SERVER_LOG))
    SERVER_LOG.clear()
    kinds: dict[str, str] = {}
    for kind in sorted({w["kind"] for w in waits}):
        of_kind = [w for w in waits if w["kind"] == kind]
        kinds[kind] = f"{len(of_kind)} {kind} {_union_ms(of_kind):.0f} ms"
    return _union_ms(waits), kinds


# --breakdown: the renderer's main-thread work, from a Chromium trace of the call.
TRACE_CATEGORIES = [
    "devtools.timeline",
    "disabled-by-default-devtools.timeline",
    "blink.user_timing",
    "v8.execute",
    "loading",
]
# Each trace event's own time (its children's taken out) goes to one group; RunTask's own time
# and everything not named here (loaders, IPC, the renderer's own bookkeeping) is "other".
GROUPS = ("html", "css", "script", "style", "layout", "paint", "other")
_GROUP_OF = {
    "ParseHTML": "html",
    "ParseAuthorStyleSheet": "css",
    "UpdateLayoutTree": "style",
    "RecalculateStyles": "style",
    "Layout": "layout",
    "Paint": "paint",
    "PrePaint": "paint",
    "PaintImage": "paint",
    "Commit": "paint",
    "Layerize": "paint",
    "UpdateLayer": "paint",
    "UpdateLayerTree": "paint",
    "ScrollLayer": "paint",
    "CompositeLayers": "paint",
    "Decode Image": "paint",
}
_SCRIPT = (
    "EvaluateScript",
    "FunctionCall",
    "EventDispatch",
    "TimerFire",
    "FireAnimationFrame",
    "RunMicrotasks",
    "XHRReadyStateChange",
    "XHRLoad",
    "FireIdleCallback",
)


def _group(name: str) -> str:
    if name in _GROUP_OF:
        return _GROUP_OF[name]
    if name in _SCRIPT or name.startswith(("v8.", "V8.", "MajorGC", "MinorGC", "BlinkGC")):
        return "script"
    if name.startswith(("LocalWindowProxy::", "ContextCreated")):
        return "script"  # a new document's script context
    return "other"


@dataclass
class Slice:
    """A stretch of one main-thread event's own time, in the waits' clock (epoch ms)."""

    start: float
    end: float
    group: str
    label: str  # what ran, for the busiest stretches of an interval ("" if nothing to say)
    name: str  # the trace event's name


def _event_label(event: dict[str, Any]) -> str:
    data = (event.get("args") or {}).get("data") or {}
    name = event["name"]
    if name == "EventDispatch":
        return f"event {data.get('type', '?')}"
    if name in ("FunctionCall", "EvaluateScript", "v8.compile"):
        url = (data.get("url") or "").rsplit("/", 1)[-1].split("?")[0]
        where = f"{url}:{data.get('lineNumber', '')}" if url else "(inline or injected)"
        what = data.get("functionName") or ""
        return f"{'run' if name == 'EvaluateScript' else 'call'} {what}@{where}".replace(" @", " ")
    if name == "TimerFire":
        return "timer"
    return ""


def trace_slices(trace: bytes, syncs: list[float]) -> list[Slice]:
    """The renderer main threads' self time, slice by slice, in the waits' clock. `syncs` are
    the epoch times of the bench-sync marks, in order: each pairs with the trace's n-th mark."""
    import json

    events = json.loads(trace)
    events = events["traceEvents"] if isinstance(events, dict) else events
    mains = {
        (e["pid"], e["tid"])
        for e in events
        if e.get("ph") == "M"
        and e.get("name") == "thread_name"
        and e["args"].get("name") == "CrRendererMain"
    }
    marks = sorted(
        e["ts"] for e in events if e.get("name") == "bench-sync" and e.get("ph") in ("R", "I", "n")
    )
    pairs = list(zip(marks, syncs, strict=False))
    if not pairs:
        return []
    offset = statistics.median(sync - ts / 1000 for ts, sync in pairs)  # ms
    # Complete events ("X"), and begin/end pairs made complete.
    spans: list[tuple[float, float, dict[str, Any]]] = []
    open_: dict[tuple[Any, Any], list[dict[str, Any]]] = {}
    for e in events:
        thread = (e.get("pid"), e.get("tid"))
        if thread not in mains:
            continue
        if e.get("ph") == "X" and "dur" in e:
            spans.append((e["ts"], e["ts"] + e["dur"], e))
        elif e.get("ph") == "B":
            open_.setdefault(thread, []).append(e)
        elif e.get("ph") == "E" and open_.get(thread):
            began = open_[thread].pop()
            spans.append((began["ts"], e["ts"], began))
    spans.sort(key=lambda s: (s[2]["pid"], s[2]["tid"], s[0], -s[1]))
    slices: list[Slice] = []
    # Self time: walk each thread's nesting; an event's time not covered by its children.
    stack: list[list[Any]] = []  # [end, event, cursor, label]
    thread_of = None

    def close(until: float) -> None:
        while stack and stack[-1][0] <= until:
            end, event, cursor, label = stack.pop()
            if end > cursor:
                slices.append(
                    Slice(
                        cursor / 1000 + offset,
                        end / 1000 + offset,
                        _group(event["name"]),
                        label,
                        event["name"],
                    )
                )
            if stack:
                stack[-1][2] = max(stack[-1][2], end)

    for start, end, event in spans:
        thread = (event["pid"], event["tid"])
        if thread != thread_of:
            close(float("inf"))
            thread_of = thread
        close(start)
        if stack:
            parent = stack[-1]
            if start > parent[2]:
                slices.append(
                    Slice(
                        parent[2] / 1000 + offset,
                        start / 1000 + offset,
                        _group(parent[1]["name"]),
                        parent[3],
                        parent[1]["name"],
                    )
                )
            parent[2] = max(parent[2], start)
            end = min(end, parent[0])
        label = _event_label(event) or (stack[-1][3] if stack else "")
        stack.append([end, event, start, label])
    close(float("inf"))
    return slices


def _clip(a: float, b: float, start: float, end: float) -> float:
    return max(0.0, min(b, end) - max(a, start))


def _union(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def print_breakdown(
    waits: list[dict[str, Any]], slices: list[Slice], requests: list[dict[str, Any]]
) -> None:
    """Where one call's app wait went: per wait interval, the worker's time on the app requests
    started in it, and the renderer main thread's busy time by kind (the rest of the interval:
    network, waiting on the server, idle); for page loads the Navigation Timing phases and the
    resources (transfer size 0: from the browser's cache); then the whole wait (overlaps once)."""

    def busy(intervals: list[tuple[float, float]]) -> dict[str, float]:
        out = dict.fromkeys(GROUPS, 0.0)
        for piece in slices:
            for a, b in intervals:
                out[piece.group] += _clip(a, b, piece.start, piece.end)
        return out

    def server(intervals: list[tuple[float, float]]) -> tuple[float, list[str]]:
        total, names = 0.0, []
        for r in requests:
            if any(a - 5 <= r["start"] < b for a, b in intervals):
                total += r["ms"]
                names.append(f"{r['method']} {r['path']} {r['ms']:.0f}")
        return total, names

    def row(label: str, intervals: list[tuple[float, float]]) -> str:
        total = sum(b - a for a, b in intervals)
        spent = busy(intervals)
        main = sum(spent.values())
        worker, _ = server(intervals)
        parts = " ".join(f"{g} {spent[g]:.0f}" for g in GROUPS if spent[g] >= 0.5)
        return (
            f"{label:30} {total:6.0f} ms: server {worker:4.0f}, main thread {main:4.0f} "
            f"({parts}), rest {total - main:4.0f}"
        )

    print("    breakdown (ms; 'rest' = the interval minus main-thread work: network, server, idle)")
    for wait in sorted(waits, key=lambda w: w["start"]):
        span = [(wait["start"], wait["end"])]
        label = f"{wait['kind']} {wait.get('path') or wait.get('detail') or ''}".strip()
        print("     " + row(label[:30], span))
        _, names = server(span)
        if names:
            print("        requests: " + "; ".join(names))
        phases = wait.get("phases")
        if phases:
            p = phases
            redirect = p["redirectEnd"] - p["redirectStart"] if p["redirectEnd"] else 0
            print(
                f"        phases: redirect {redirect:.0f}, to request {p['requestStart']:.0f}, "
                f"answer {p['responseStart'] - p['requestStart']:.0f} (first byte), body "
                f"{p['responseEnd'] - p['responseStart']:.0f} ({p['decodedBodySize'] / 1024:.0f}"
                f" KB), parse to interactive {p['domInteractive'] - p['responseEnd']:.0f}, "
                f"DOMContentLoaded {p['domContentLoadedEventEnd'] - p['domInteractive']:.0f}, "
                f"to load end {p['loadEventEnd'] - p['domContentLoadedEventEnd']:.0f}"
            )
            fetched = [r for r in wait.get("resources", []) if r["transferSize"] > 0]
            blocking = [r["name"] for r in wait.get("resources", []) if r["blocking"] == "blocking"]
            print(
                "        resources: "
                + (
                    ", ".join(f"{r['name']} fetched {r['end'] - r['start']:.0f}" for r in fetched)
                    or "all from the browser's cache"
                )
                + (f"; render-blocking: {', '.join(blocking)}" if blocking else "")
            )
        # The busiest things that ran in it (script labels), for long tasks and loads.
        ran: dict[str, float] = {}
        for piece in slices:
            took = _clip(wait["start"], wait["end"], piece.start, piece.end)
            if took and piece.label:
                ran[piece.label] = ran.get(piece.label, 0.0) + took
        top = sorted(ran.items(), key=lambda kv: -kv[1])[:4]
        if top:
            print("        ran: " + ", ".join(f"{k} {v:.0f}" for k, v in top))
    union = _union([(w["start"], w["end"]) for w in waits])
    print("     " + row("whole app wait (union)", union))
    others: dict[str, float] = {}
    for piece in slices:
        if piece.group == "other":
            took = sum(_clip(a, b, piece.start, piece.end) for a, b in union)
            others[piece.name] = others.get(piece.name, 0.0) + took
    top = sorted(others.items(), key=lambda kv: -kv[1])[:6]
    print("        other: " + ", ".join(f"{k} {v:.0f}" for k, v in top))


class Driver:
    """Every click and keystroke the script makes goes through here and is counted; full page
    loads are counted from the page's own load events."""

    def __init__(self, page: Any, *, early_locators: bool = False) -> None:
        self.page = page
        self.counts = Counts()
        self.early_locators = early_locators
        page.on("load", self._loaded)

    @contextmanager
    def loads_page(self) -> Iterator[None]:
        """An action that loads a page: the script waits for that page's load event (Playwright's
        lifecycle event from the browser, nothing run in the page) before its next locator or
        evaluate. A locator polled while the page loads makes Playwright evaluate its injected
        script (~330 KB of source; 25-140 ms of the renderer's main thread) in the new document,
        inside the measured load; the floor's page (page.goto waits for the load) never paid it.
        `--early-locators` keeps the old way, to compare."""
        if self.early_locators:
            yield
            return
        from playwright.sync_api import TimeoutError as PlaywrightTimeout

        try:
            with self.page.expect_event("load"):
                yield
        except PlaywrightTimeout:
            pass  # no page came (a refused signature lists its rules in place): the caller says

    def _loaded(self, _page: Any = None) -> None:
        self.counts.loads += 1

    def done(self) -> None:
        """This call is over: its tab closed, or (the working tab) no longer counted here."""
        self.page.remove_listener("load", self._loaded)

    def click(self, selector: str) -> None:
        self.counts.clicks += 1
        self.page.locator(selector).first.click()

    def check(self, selector: str) -> None:
        self.counts.clicks += 1
        self.page.locator(selector).check()

    def select(self, selector: str, value: str) -> None:
        self.counts.clicks += 2  # open the list, pick
        self.page.locator(selector).select_option(value)

    def type(self, selector: str, text: str) -> None:
        self.counts.clicks += 1  # into the field
        self.counts.keystrokes += len(text)
        self.page.locator(selector).fill(text)

    def keys(self, text: str) -> None:
        """Typed text: one keystroke per character, sent as one insertion (the machine time is
        the app's, not Playwright's per-key round trips)."""
        self.counts.keystrokes += len(text)
        self.page.keyboard.insert_text(text)

    def press(self, key: str) -> None:
        self.counts.keystrokes += 1
        self.page.keyboard.press(key)

    def tab_to(self, selector: str, limit: int = 60) -> None:
        """Tab until the focus is on `selector`; every Tab is a keystroke."""
        for _ in range(limit):
            if self.page.evaluate(
                "s => !!document.activeElement && document.activeElement.matches(s)", selector
            ):
                return
            self.press("Tab")
        raise AssertionError(f"Tab never reached {selector}")

    def stage(self, key: str) -> None:
        """Alt+<n>: the stage's first field (n read from the page, as the counselor reads it)."""
        number = self.page.locator(f"#stage-{key}").get_attribute("data-stage-number")
        self.press(f"Alt+{number}")

    def measure_note_page(self) -> None:
        self.counts.height = int(self.page.evaluate("document.documentElement.scrollHeight"))
        self.counts.controls = int(
            self.page.evaluate(
                "document.querySelectorAll('input:not([type=hidden]), select, textarea, "
                "button').length"
            )
        )


def _wait_note(page: Any) -> None:
    page.locator("#note-form[data-autosave=ready]").wait_for()


def _wait_signed(page: Any, selector: str) -> None:
    """Until the signed page shows; a refusal (the unmet rules listed in place) stops the run
    with the list, so a script that no longer fills what the rules require says so."""
    signed = page.locator(selector).first
    refused = page.locator("#sign-live.alert-danger")
    signed.or_(refused).first.wait_for()
    if not signed.count():
        raise SystemExit(f"not signed: {page.locator('#sign-live').inner_text()}")


def _sign(d: Driver) -> None:
    """ "End session and sign", then the confirm dialog (its confirm button has the focus:
    Enter, a keystroke). The signed note is shown in place (no page load, since 2026-12-02);
    `_wait_signed` waits for it."""
    d.click("#end-sign-button")
    d.page.locator("#confirm-dialog [data-confirm-ok]:focus").wait_for()
    d.press("Enter")


def _search_box_ready(page: Any) -> None:
    """Until the search box has the focus its `autofocus` gives it: the browser applies
    autofocus at its next rendering step, which may come after the load event, and text typed
    before it went nowhere (the run then waited in vain for the results). A counselor sees the
    cursor there before typing; this wait is not counted (it is not the app's)."""
    page.locator("#client-q:focus").wait_for()


def low_risk(d: Driver, base: str, alias: str) -> None:
    """Keyboard first: the search box has the focus; the results offer the new client and its
    session in one step; the note opens with the focus in its first stage; the stages are
    reached with Alt+<n> and Tab; one click on "End session and sign", Enter confirms."""
    page = d.page
    page.goto(f"{base}/clients/")
    _search_box_ready(page)
    d.keys(alias)
    page.locator("[data-testid=new-client-start]").wait_for()
    d.tab_to("[data-testid=new-client-start]")
    d.press("Enter")  # creates the client and starts the session: the draft shown in place
    _wait_note(page)
    d.measure_note_page()
    d.tab_to("[data-testid=cssrs-all-no]")
    d.press("Space")  # C-SSRS 1, 2 and 6: No
    d.tab_to("#id_safety-means-agitation")
    d.press("1")  # a select picks by its first letter
    d.press("Alt+0")
    d.tab_to("#id_header-confidentiality_explained")
    d.press("Space")
    d.stage("exploration")
    d.keys("Could not sleep after an argument.")
    d.tab_to("#id_exploration-suds_start")
    d.press("5")
    d.press("Tab")
    d.press("3")
    d.stage("problem_solving")
    d.tab_to("#id_problem_solving-interventions")
    d.keys("Active listening, grounding.")
    d.stage("follow_up")
    d.tab_to("#id_follow_up-followup_plan")
    d.keys("None needed; may call again.")
    d.tab_to("#id_follow_up-crisis_numbers_given")
    d.press("Space")
    d.tab_to("#id_follow_up-disposition_0")
    d.press("Space")
    _sign(d)
    _wait_signed(page, "[data-testid=note-status]:has-text('Signed')")


def high_risk(d: Driver, base: str, alias: str) -> None:
    page = d.page
    page.goto(f"{base}/clients/")
    _search_box_ready(page)
    d.keys(alias)
    page.locator(f"[data-testid=client-results] a:has-text('{alias}')").first.wait_for()
    with d.loads_page():
        d.click(f"[data-testid=client-results] a:has-text('{alias}')")
    d.click("button:has-text('Start session')")  # the draft shown in place
    _wait_note(page)
    d.measure_note_page()
    for item in ("q1", "q2", "q3", "q4", "q5"):
        d.check(f"#id_safety-screen-{item}")
    d.check("#id_safety-screen-q6_no")
    d.check("#id_safety-formulation-clinician_level_2")
    d.type("#id_safety-formulation-rationale", "Plan and intent tonight; firearm at home.")
    d.type("#id_safety-formulation-plan_details", "Gun in the closet, tonight.")
    d.select("#id_safety-means-agitation", "6")
    d.check("#id_safety-means-firearms_0")
    d.check("#id_safety-means-medications_1")
    d.check("#id_safety-means-other_means_1")
    d.type("#id_safety-means-means_safety_notes", "Brother will take the gun tonight.")
    d.check("#id_header-confidentiality_explained")
    d.type("#id_exploration-precipitating_event", "Lost custody hearing today.")
    d.select("#id_exploration-suds_start", "9")
    d.select("#id_exploration-suds_end", "6")
    d.type("#id_problem_solving-interventions", "Safety planning, means counselling.")
    d.type("#id_follow_up-followup_plan", "Call tomorrow morning.")
    d.check("#id_follow_up-crisis_numbers_given")
    d.check("#id_follow_up-disposition_1")  # mobile crisis
    # Supervisor consulted by phone, recorded from the note (htmx).
    d.click("#safety-supervisor-record summary")
    d.select(
        "#id_supervisor-record-supervisor",
        page.locator("#id_supervisor-record-supervisor option:nth-child(2)").get_attribute("value")
        or "",
    )
    d.select("#id_supervisor-record-method", "phone")
    d.type("#id_supervisor-record-response", "Agree: mobile crisis, call back in 1 h.")
    d.click("#safety-supervisor-record button:has-text('Record notification')")
    page.locator("[data-testid=supervisor-notification]").first.wait_for()
    # Follow-up task: due time and assignee already filled from the risk.
    d.click("#note-followups button:has-text('Add follow-up')")
    page.locator("#note-followups [data-followup]").first.wait_for()
    # Safety plan, in the note's panel (htmx, no page load).
    d.click("[data-testid=safety-plan-edit]")
    page.locator("[name=warning_signs]:focus").wait_for()
    d.keys("Stop answering texts")
    d.press("Tab")
    d.keys("Walk the dog")
    d.type("[name=environment]", "Brother keeps the gun")
    d.click("[data-testid=safety-plan-save]")
    page.locator("[data-testid=safety-plan-status]").wait_for()
    _sign(d)
    _wait_signed(
        page,
        "[data-testid=note-status]:has-text('Awaiting co-sign'), "
        "[data-testid=note-status]:has-text('Signed')",
    )


def _test_database_url(name: str) -> str:
    """DATABASE_URL with its database replaced by the bench's own (test_<name>)."""
    url = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(url._replace(path=f"/{name}"))


@contextmanager
def _gunicorn(workers: int) -> Iterator[str]:
    """The app as users get it (pages_bench.py's server): gunicorn in processes of its own under
    production settings, manifest static files from a real collectstatic served by whitenoise
    with far-future headers, Secure __Host- cookies, persistent database connections. TLS ends
    at the 'proxy' the browser impersonates by sending X-Forwarded-Proto: https; the browser's
    Origin stays http://127.0.0.1:<port>, so that origin is trusted for CSRF (behind the real
    proxy the Origin is the https one the site answers on)."""
    from django.db import connection
    from pages_bench import free_port, production_server, server_env

    port = free_port()
    with tempfile.TemporaryDirectory(prefix="documentation-speed-") as tmp:
        env = server_env(Path(tmp))
        env.update(
            DATABASE_URL=_test_database_url(connection.settings_dict["NAME"]),
            CSRF_TRUSTED_ORIGINS=f"http://127.0.0.1:{port}",
        )
        connection.close()  # the bench process holds no connection while it measures
        with production_server(env, workers=workers, port=port) as base:
            yield base


@contextmanager
def _live_server_thread() -> Iterator[str]:
    """--in-thread: Django's live-server thread in this process, under DJANGO_ENV=test (what the
    bench used before: not what users run; kept to compare)."""
    from django.contrib.staticfiles.handlers import StaticFilesHandler
    from django.test.testcases import LiveServerThread

    class TimedHandler(StaticFilesHandler):
        """Keeps each request's time inside the app (for --detail; static files left out)."""

        def __call__(self, environ: Any, start_response: Any) -> Any:
            began = time.perf_counter()
            answer = super().__call__(environ, start_response)
            path = environ.get("PATH_INFO", "")
            if not path.startswith("/static/"):
                took = (time.perf_counter() - began) * 1000
                SERVER_LOG.append(f"{environ.get('REQUEST_METHOD')} {path} {took:.0f} ms")
            return answer

    server = LiveServerThread("localhost", TimedHandler, port=0)
    server.daemon = True
    server.start()
    server.is_ready.wait()
    if server.error:
        raise server.error
    try:
        yield f"http://localhost:{server.port}"
    finally:
        server.terminate()


def _log_server_time(response: Any) -> None:
    """gunicorn mode, --detail: the worker's time on each app request (X-Bench-Server-Ms,
    bench.bench_settings' outermost middleware)."""
    spent = response.headers.get("x-bench-server-ms")
    path = urlsplit(response.url).path
    if spent is not None and not path.startswith("/static/"):
        SERVER_LOG.append(f"{response.request.method} {path} {float(spent):.0f} ms")
        timing = response.request.timing
        # A request the memory cache answered (the catalogue) repeats its stored header: only
        # answers that came from the server (a response start after the request start) count.
        if timing.get("responseStart", -1) > 0:
            SERVER_REQUESTS.append(
                {
                    "start": timing["startTime"],
                    "method": response.request.method,
                    "path": path,
                    "ms": float(spent),
                }
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs of each call (median)")
    parser.add_argument("--detail", action="store_true", help="print every wait of every run")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (compose: 3)")
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="unmeasured runs of each call first (a serving worker has its templates compiled)",
    )
    parser.add_argument(
        "--new-tab",
        action="store_true",
        help="each call in a tab of its own (its first page then loads into a new renderer, "
        "with nothing in its memory cache; the floor is still the working tab's)",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="trace each measured call in Chromium and print, for the median run, where its app "
        "wait went: per interval the worker's time, the main thread's work by kind (HTML parse, "
        "CSS, script, style, layout, paint) and the rest; load phases and resources (tracing "
        "slows the browser a little: compare figures of runs without it)",
    )
    parser.add_argument(
        "--early-locators",
        action="store_true",
        help="the script's locators poll while a page loads (as until 2026-12-01): "
        "Playwright's injected script then runs inside the measured load; to compare",
    )
    parser.add_argument(
        "--in-thread",
        action="store_true",
        help="the old server: a live-server thread in this process under test settings",
    )
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a PostgreSQL server.")

    import django

    django.setup()
    from django.conf import global_settings
    from django.test.utils import override_settings, setup_databases, teardown_databases
    from playwright.sync_api import sync_playwright

    from sessions.services.demo import demo_seed

    old_config = setup_databases(verbosity=0, interactive=False)
    try:
        # The users' passwords hashed as production hashes them (this process runs under test
        # settings, whose fast hasher production does not accept).
        hashers = {} if args.in_thread else {"PASSWORD_HASHERS": global_settings.PASSWORD_HASHERS}
        with override_settings(**hashers):
            demo_seed(password=PASSWORD)
        server = _live_server_thread() if args.in_thread else _gunicorn(args.workers)
        with server as base, sync_playwright() as pw:
            print(
                "server: "
                + (
                    "live-server thread in the bench's process, test settings"
                    if args.in_thread
                    else f"gunicorn, {args.workers} workers, production settings"
                )
            )
            _measure(args, base, pw)
    finally:
        from django.db import connections

        connections.close_all()
        teardown_databases(old_config, verbosity=0)


def _call_tab(context: Any, working: Any, *, new_tab: bool) -> Any:
    """The tab a call is made in: the counselor's working tab, where the floor was measured
    (its waits so far forgotten), or with --new-tab a tab opened for the call."""
    if new_tab:
        return context.new_page()
    working.evaluate("sessionStorage.removeItem('bench-waits')")
    return working


def _end_call(d: Driver, *, new_tab: bool) -> None:
    d.done()
    if new_tab:
        d.page.close()


def _measure(args: argparse.Namespace, base: str, pw: Any) -> None:
    browser = pw.chromium.launch(
        executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
    )
    # As the TLS proxy in front of gunicorn tells it (harmless to the in-thread server).
    context = browser.new_context(extra_http_headers={"X-Forwarded-Proto": "https"})
    context.add_init_script(WAIT_RECORDER)
    if not args.in_thread:
        context.on("response", _log_server_time)
    page = context.new_page()
    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill("counselor")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(lambda url: "/login/" not in url)
    # The floor: a plain page load (the client search page, nothing typed).
    floors, wait_floors = [], []
    for _ in range(5):
        start = time.perf_counter()
        page.goto(f"{base}/clients/")
        floors.append(time.perf_counter() - start)
        _wait_recorded(page)
        wait_floors.append(
            page.evaluate(
                "(() => { const n = performance.getEntriesByType('navigation')[0];"
                " return n.loadEventEnd - n.startTime; })()"
            )
            / 1000
        )
    floor = statistics.median(floors)
    wait_floor = statistics.median(wait_floors)
    print(
        f"plain page load: {wait_floor * 1000:.0f} ms navigation start → load event "
        f"(app-wait floor); {floor * 1000:.0f} ms scripted wall time (wall floor); calls "
        + ("each in a new tab" if args.new_tab else "in the same (working) tab")
    )
    for name, flow, alias in (
        ("low-risk ", low_risk, "Caller, bench {n}"),
        ("high-risk", high_risk, "Returning caller, night shift"),
    ):
        for n in range(args.warmup):
            d = Driver(
                _call_tab(context, page, new_tab=args.new_tab), early_locators=args.early_locators
            )
            flow(d, base, alias.format(n=f"{name.strip()} warm-up {n}"))
            app_wait_ms(d.page)
            _end_call(d, new_tab=args.new_tab)
        runs = []
        traced: list[tuple[float, list[dict[str, Any]], bytes, list[dict[str, Any]]]] = []
        for n in range(args.repeat):
            SERVER_LOG.clear()
            SERVER_REQUESTS.clear()
            d = Driver(
                _call_tab(context, page, new_tab=args.new_tab), early_locators=args.early_locators
            )
            if args.breakdown:
                browser.start_tracing(page=d.page, categories=TRACE_CATEGORIES)
            start = time.perf_counter()
            flow(d, base, alias.format(n=f"{name.strip()} {n}"))
            d.counts.seconds = time.perf_counter() - start
            d.counts.wait_ms, kinds = app_wait_ms(d.page, detail=args.detail)
            if args.breakdown:
                waits = d.page.evaluate("JSON.parse(sessionStorage.getItem('bench-waits'))")
                traced.append(
                    (
                        d.counts.wait_ms,
                        waits["waits"],
                        browser.stop_tracing(),
                        list(SERVER_REQUESTS),
                    )
                )
            d.counts.notes.append(", ".join(kinds.values()))
            _end_call(d, new_tab=args.new_tab)
            runs.append(d.counts)
        if traced:
            wait_ms, waits, trace, requests = sorted(traced, key=lambda t: t[0])[len(traced) // 2]
            syncs = [w["sync"] for w in sorted(waits, key=lambda w: w["start"]) if "sync" in w]
            print(f"  {name.strip()}, the median run ({wait_ms:.0f} ms of app wait):")
            print_breakdown(waits, trace_slices(trace, syncs), requests)
        c = runs[len(runs) // 2]
        seconds = statistics.median(r.seconds for r in runs)
        wait = statistics.median(r.wait_ms for r in runs) / 1000
        print(
            f"{name}: {c.clicks} clicks, {c.keystrokes} keystrokes, {c.loads} page loads; "
            f"machine time (app wait) {wait * 1000:.0f} ms = {wait / wait_floor:.1f}× "
            f"floor; scripted wall time {seconds * 1000:.0f} ms = {seconds / floor:.1f}× "
            f"floor; note page {c.height} px, {c.controls} controls "
            f"[waits: {c.notes[-1]}]"
        )
    browser.close()


if __name__ == "__main__":
    main()
