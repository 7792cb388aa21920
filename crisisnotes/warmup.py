"""A web worker readies itself before it serves its first request (gunicorn.conf.py's
`post_worker_init`), so the counselor who reaches a new worker — after a deploy, a restart, a
worker replaced — does not wait for what every worker does once: the URL map and the views it
imports, each language's translations, and every template of the project compiled into Django's
cached template loader (the first request of a fresh process took ~1 s, then ~60 ms; the first
signed note page after the draft's, 51 ms then 39). Nothing here touches the database, the
broker or the session: a worker that cannot reach them still starts, as before.

Once warm, everything the worker holds (modules, URL map, compiled templates, translations:
~170,000 objects) is moved out of the garbage collector's generations (`gc.freeze()`). Those
objects live as long as the process, but each collection of the oldest generation during a
request walked all of them again to find nothing to free. The draft note's page allocates
enough to trigger such collections often: in `bench/pages_profile.py` (a process warmed as
here) the collector took 1.7–9 ms of a draft page on average (how much depends on what the
process holds), 0.8–1.7 ms once frozen. Under 20 clients the draft's p99 inside the worker
fell from 410–650 ms (2–3× its p95) to 160–180 ms (~1.1× its p95) with this and the page's
other savings of the same branch (bench/README.md, `notepage11`). Frozen objects are still
freed by reference counting; only cycles among them would stay (a warm-up loads its objects
once, to keep them)."""

from __future__ import annotations

import gc
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.template import TemplateSyntaxError, engines
from django.urls import get_resolver
from django.utils.translation import trans_real

logger = logging.getLogger(__name__)

TEMPLATE_SUFFIXES = (".html", ".txt")


def _project_templates() -> Iterator[str]:
    """Every template name under the project's own template folders: settings' DIRS and the
    `templates` folder of each app that lives in this repository."""
    root = Path(settings.BASE_DIR).resolve()
    engine: dict[str, Any] = settings.TEMPLATES[0]
    folders = [Path(folder) for folder in engine.get("DIRS", [])]
    for config in apps.get_app_configs():
        folder = Path(config.path).resolve() / "templates"
        if folder.is_dir() and folder.is_relative_to(root) and ".venv" not in folder.parts:
            folders.append(folder)
    seen: set[str] = set()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix in TEMPLATE_SUFFIXES and path.is_file():
                name = path.relative_to(folder).as_posix()
                if name not in seen:
                    seen.add(name)
                    yield name


def warm() -> int:
    """Load what every request needs once per process; returns the number of templates
    compiled. A template that does not compile is logged (its page fails as it would have)."""
    get_resolver().url_patterns  # noqa: B018 — imports every view module and builds the map
    get_resolver()._populate()
    for code, _name in settings.LANGUAGES:
        trans_real.translation(code)
    engine = engines["django"]
    compiled = 0
    for name in _project_templates():
        try:
            engine.get_template(name)
        except TemplateSyntaxError:
            logger.exception("template %s does not compile", name)
        else:
            compiled += 1
    _freeze_what_lives_on()
    logger.info("worker warmed up: %d templates compiled", compiled)
    return compiled


def _freeze_what_lives_on() -> None:
    """Collect once (the warm-up's own garbage, so it is freed now rather than frozen), then
    put every object left into the collector's permanent generation, which collections never
    scan: the long-lived state of a worker is not walked again by every full collection of a
    request (see the module docstring)."""
    gc.collect()
    gc.freeze()
