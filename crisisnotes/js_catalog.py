"""The translations static/js uses (Django's JavaScriptCatalog), at an address a browser may keep.

Every page loads the catalogue in its <head>, before any script. At `/jsi18n/` alone it was
fetched again by every page load, signed-in pages being no-store (crisisnotes.middleware):
12–77 ms of each page load in `bench/documentation_speed.py --detail`. The pages now ask for
`/jsi18n/?l=<language>&v=<version>`: the language the page was written in, and a digest of the
catalogues this server loaded. That answer holds no client data, only the interface's words, so
it is kept by the browser for a year (private, immutable); a new language or new catalogues make
a new address. An address that does not match (an old page after a deploy, a language changed
since) gets the catalogue as before, uncached."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import cache
from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.functional import lazy
from django.views.i18n import JavaScriptCatalog

YEAR = 365 * 24 * 3600
_catalog = JavaScriptCatalog.as_view()


def catalog_digest(files: Iterable[Path]) -> str:
    """A short digest of these compiled catalogues' languages and bytes, and of Django's version
    (its own catalogue ships with it). Not of where they lie: two web servers of one release
    installed in different folders give their pages the same address, so the browser's copy
    from one serves the other's pages."""
    digest = hashlib.sha256(django.get_version().encode())
    for path in sorted(files, key=_in_locale_folder):
        digest.update(_in_locale_folder(path).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _in_locale_folder(path: Path) -> str:
    """`es/LC_MESSAGES/djangojs.mo`: a catalogue's place under its locale folder."""
    return path.relative_to(path.parents[2]).as_posix()


@cache
def catalog_version() -> str:
    """The digest of the project's JavaScript catalogues, read once: a running server never
    reloads its catalogues either, so a new version comes with the restart that loads it."""
    folders = [Path(folder) for folder in settings.LOCALE_PATHS]
    return catalog_digest(
        path for folder in folders for path in folder.glob("*/LC_MESSAGES/djangojs.mo")
    )


def catalog_url() -> str:
    """The catalogue's address for a page written in the active language."""
    return _catalog_url(translation.get_language())


@cache
def _catalog_url(language: str) -> str:
    """Once per process and language: the URL map and the catalogues never change in a
    running server (see catalog_version)."""
    return f"{reverse('javascript-catalog')}?l={language}&v={catalog_version()}"


# The lazy string's class, made once: `lazy()` builds a proxy class (and its ~80 methods) at
# every call, and the context processor runs for every template rendered with the request
# (six a draft note page).
_lazy_catalog_url = lazy(catalog_url, str)


def javascript_catalog(request: HttpRequest) -> HttpResponseBase:
    response = _catalog(request)
    if (
        request.GET.get("v") == catalog_version()
        and request.GET.get("l") == translation.get_language()
    ):
        # "immutable" is what NoStoreMiddleware leaves alone.
        patch_cache_control(response, private=True, max_age=YEAR, immutable=True)
    return response


def js_catalog(request: HttpRequest) -> dict[str, Any]:
    """Context processor: `js_catalog_url`, worked out only where a template uses it."""
    return {"js_catalog_url": _lazy_catalog_url()}
