"""A web worker loads what every request needs before it serves (crisisnotes.warmup, called by
gunicorn.conf.py's post_worker_init): every template of the project compiled, proven in-process
and in a real gunicorn worker."""

from __future__ import annotations

import gc

import pytest
from django.template import engines
from django.template.loaders.cached import Loader as CachedLoader

from crisisnotes import warmup
from tests import workers


@pytest.fixture(autouse=True)
def _unfrozen():
    """warm() freezes the process's objects out of the collector's generations: give this
    test process its collector back afterwards."""
    yield
    gc.unfreeze()


def _cached_loader() -> CachedLoader:
    loader = engines["django"].engine.template_loaders[0]
    assert isinstance(loader, CachedLoader)
    return loader


def test_every_project_template_is_compiled_into_the_cached_loader():
    names = list(warmup._project_templates())
    assert "base.html" in names and "sessions/note_edit.html" in names
    assert not [n for n in names if "admin/" in n or n.startswith("django/")]  # ours only
    loader = _cached_loader()
    loader.reset()
    assert warmup.warm() == len(names)
    cached = set(loader.get_template_cache)
    assert set(names) <= cached


def test_what_a_warmed_worker_holds_is_frozen_out_of_the_collector():
    gc.unfreeze()
    warmup.warm()
    frozen = gc.get_freeze_count()
    # The compiled templates (thousands of nodes) are among what no collection walks again.
    assert frozen > 10_000
    # What a full collection during a request walks: next to nothing of the warm-up's.
    assert len(gc.get_objects(generation=2)) < frozen / 100
    garbage: list[object] = []
    garbage.append(garbage)  # a cycle made after warming is still collected
    del garbage
    assert gc.collect() >= 1


def test_a_template_that_does_not_compile_is_logged_and_the_rest_are_compiled(
    tmp_path, settings, caplog
):
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "broken.html").write_text("{% if %}")
    (folder / "fine.html").write_text("fine")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [folder, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    compiled = warmup.warm()
    assert compiled == len(list(warmup._project_templates())) - 1
    assert "template broken.html does not compile" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_a_gunicorn_worker_warms_up_before_it_serves(tmp_path):
    log = tmp_path / "error.log"
    with workers.gunicorn("--access-logfile=/dev/null", stderr=log):
        printed = log.read_text()
    count = len(list(warmup._project_templates()))
    assert f"worker warmed up: {count} templates compiled" in printed, printed[-2000:]
