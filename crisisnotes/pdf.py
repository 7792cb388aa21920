"""PDF rendering with WeasyPrint that can read our own static files and nothing else.

Templates link assets with `{% static %}`; the HTML is rendered against a base URL that exists
nowhere (`https://crisisnotes.invalid/`), and the fetcher answers only for paths under
STATIC_URL. With the manifest storage of production (`collectstatic` gave every file a hashed
name, `css/print.3f9c….css`, and rewrote the fonts' URLs inside it) a path is served only when
the manifest names it, from the collected file under STATIC_ROOT; otherwise (development, tests)
from the staticfiles finders, i.e. the vendored files in `static/`.
Every other URL — http(s), file:, data:, anything a note's text might smuggle in — is refused
without a network request, and noted in `refused` so tests can see what was attempted (what was
served is noted in `fetched`).

Import this module where a PDF is made (inside the rendering function), not at the top of a
module every process loads: WeasyPrint takes ~0.7 s of CPU to load (tests/test_layering.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

PDF_BASE_URL = "https://crisisnotes.invalid/"

_MIME = {
    ".css": "text/css",
    ".ttf": "font/ttf",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".png": "image/png",
    ".svg": "image/svg+xml",
}


class StaticOnlyURLFetcher(URLFetcher):
    def __init__(self) -> None:
        super().__init__(timeout=1, allowed_protocols={"https"}, allow_redirects=False)
        self.refused: list[str] = []
        self.fetched: list[str] = []

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        prefix = PDF_BASE_URL + settings.STATIC_URL.lstrip("/")
        path = _static_path(url[len(prefix) :]) if url.startswith(prefix) else None
        if path is None:
            self.refused.append(url)
            raise ValueError(f"refused to fetch {url!r}: only our static files may be used")
        self.fetched.append(url)
        return URLFetcherResponse(
            url,
            body=path.read_bytes(),
            headers={"Content-Type": _MIME.get(path.suffix, "application/octet-stream")},
        )


def _static_path(relative: str) -> Path | None:
    relative = relative.split("?", 1)[0].split("#", 1)[0]
    if not relative or relative.startswith("/") or ".." in Path(relative).parts:
        return None
    manifest = getattr(staticfiles_storage, "hashed_files", None)
    if manifest:
        return _collected_path(relative, manifest)
    found = finders.find(relative)
    return Path(found) if isinstance(found, str) else None


def _collected_path(relative: str, manifest: dict[str, str]) -> Path | None:
    """The collected file for a name the manifest knows: a hashed name (what `{% static %}` and
    the rewritten CSS ask for) or an original name (mapped to its hashed copy). Anything else
    under STATIC_ROOT (the manifest itself, stray files) is refused like any other URL."""
    if relative in manifest:
        name = manifest[relative]
    elif relative in set(manifest.values()):
        name = relative
    else:
        return None
    try:
        path = Path(staticfiles_storage.path(name))
    except NotImplementedError:  # a remote static storage has no local path
        return None
    return path if path.is_file() else None


def pdf_render(*, html: str, fetcher: StaticOnlyURLFetcher | None = None) -> bytes:
    """Render trusted template output (already escaped by Django) to PDF bytes."""
    fetcher = fetcher or StaticOnlyURLFetcher()
    document = HTML(string=html, base_url=PDF_BASE_URL, url_fetcher=fetcher)
    return bytes(document.write_pdf())


def pdf_render_template(
    *, template_name: str, context: dict[str, Any], fetcher: StaticOnlyURLFetcher | None = None
) -> bytes:
    return pdf_render(html=render_to_string(template_name, context), fetcher=fetcher)
