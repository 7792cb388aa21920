"""PDFs under the production static storage: a real `collectstatic` into a temporary STATIC_ROOT
with whitenoise's CompressedManifestStaticFilesStorage (what DJANGO_ENV=production uses), so
`{% static %}` links `css/print.<hash>.css` and the CSS asks for `fonts/DejaVuSans.<hash>.ttf`.
The fetcher must serve those from the collected files: otherwise the record prints without its
running header, page numbers, wrapping and fonts — and nothing else may be fetched."""

from __future__ import annotations

import io
import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.management import call_command
from django.test import Client as DjangoClient
from django.test.utils import override_settings
from django.urls import reverse
from pypdf import PdfReader

from crisisnotes.accounts.models import User
from crisisnotes.pdf import PDF_BASE_URL, StaticOnlyURLFetcher, pdf_render
from sessions.services.exports import record_pdf
from tests.factories import ClientFactory, NoteFactory
from tests.parallel import run_lock
from tests.safety.test_views import plan_for

PRODUCTION_STATIC = "whitenoise.storage.CompressedManifestStaticFilesStorage"


def _production_static() -> Any:
    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": PRODUCTION_STATIC}}
    return override_settings(STORAGES=storages, WHITENOISE_USE_FINDERS=False)


@pytest.fixture(scope="session")
def collected_once(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real collectstatic with the production storage, once for the whole test run: the tests
    only read what it wrote. pytest-django runs this module's database tests and its other test
    apart, and parallel workers may each get one of them; the first to arrive collects, under
    the run's lock, and the manifest (written last) tells the others it is done."""
    with run_lock(tmp_path_factory, "collectstatic") as folder:
        root = folder / "static_root"
        if not (root / "staticfiles.json").exists():
            with _production_static(), override_settings(STATIC_ROOT=root):
                call_command("collectstatic", interactive=False, verbosity=0)
    return root


@pytest.fixture(scope="module")
def collected(collected_once: Path) -> Iterator[Path]:
    """STATIC_ROOT after that collectstatic, with the production storage, for the module."""
    with _production_static(), override_settings(STATIC_ROOT=collected_once):
        yield collected_once


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    attempts: list[object] = []

    def refuse(self: socket.socket, address: object, *args: Any, **kwargs: Any) -> None:
        attempts.append(address)
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    return attempts


def _hashed(collected: Path, original: str) -> str:
    manifest = json.loads((collected / "staticfiles.json").read_text())
    hashed = manifest["paths"][original]
    assert hashed != original  # the point of the test: names really are hashed
    return str(hashed)


def _embedded_fonts(reader: PdfReader) -> set[str]:
    """BaseFont names of the fonts whose program is embedded in the PDF (FontFile*)."""
    names: set[str] = set()
    for page in reader.pages:
        fonts = page["/Resources"].get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            descendants = [d.get_object() for d in font.get("/DescendantFonts", [])] or [font]
            for d in descendants:
                descriptor = d.get("/FontDescriptor")
                if descriptor is None:
                    continue
                descriptor = descriptor.get_object()
                if any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    names.add(str(d["/BaseFont"]))
    return names


@pytest.mark.django_db
def test_record_pdf_has_header_footer_and_fonts_under_manifest_storage(
    collected: Path, counselor: User, clinic_admin: User, no_network: list[object]
) -> None:
    css = _hashed(collected, "css/print.css")
    font = _hashed(collected, "fonts/DejaVuSans.ttf")
    note = NoteFactory.create(
        signed=True, high_risk=True, author=counselor, event="A long night. " * 600 + "W" * 1200
    )
    fetcher = StaticOnlyURLFetcher()
    pdf = record_pdf(note=note, generated_by=clinic_admin, fetcher=fetcher)
    reader = PdfReader(io.BytesIO(pdf))

    static = PDF_BASE_URL + settings.STATIC_URL.lstrip("/")
    assert static + css in fetcher.fetched
    assert static + font in fetcher.fetched
    assert fetcher.refused == [] and no_network == []

    pages = len(reader.pages)
    assert pages >= 2
    for number, page in enumerate(reader.pages, start=1):
        text = page.extract_text()
        assert "CONFIDENTIAL" in text
        assert f"Page {number} of {pages}" in text
    fonts = _embedded_fonts(reader)
    assert any("DejaVu-Sans" in name for name in fonts), fonts
    assert any("DejaVu-Sans-Bold" in name for name in fonts), fonts
    # The unbroken word wraps inside the page (the print CSS's overflow-wrap applied).
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert re.sub(r"\s+", "", text).count("W" * 1200) == 1
    assert sum(1 for line in text.splitlines() if re.fullmatch(r"W{5,}", line.strip())) >= 5


@pytest.mark.django_db
def test_safety_plan_client_copy_pdf_has_its_fonts_under_manifest_storage(
    collected: Path, counselor: User, counselor_client: DjangoClient
) -> None:
    client = ClientFactory(clinic=counselor.clinic, created_by=counselor)
    plan_for(client, counselor)
    response = counselor_client.get(reverse("safety:plan_copy_pdf", args=[client.pk]))
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.content))
    assert len(reader.pages) == 1  # the copy's @page and sizes applied: it fits one page
    assert "My safety plan" in reader.pages[0].extract_text()
    fonts = _embedded_fonts(reader)
    assert any("DejaVu-Sans" in name for name in fonts), fonts
    assert any("DejaVu-Sans-Bold" in name for name in fonts), fonts
    # Letter size from the copy's stylesheet (612 x 792 pt), not WeasyPrint's A4 default.
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (612, 792)


def test_manifest_fetcher_refuses_what_the_manifest_does_not_name(
    collected: Path, no_network: list[object]
) -> None:
    static = PDF_BASE_URL + settings.STATIC_URL.lstrip("/")
    hashed_css = _hashed(collected, "css/print.css")
    fetcher = StaticOnlyURLFetcher()
    served = fetcher.fetch(static + hashed_css)
    assert served.read() == (collected / hashed_css).read_bytes()
    for url in (
        static + "staticfiles.json",  # in STATIC_ROOT but not a static file
        static + "css/print.0123456789ab.css",  # a hash the manifest never made
        static + "../settings.py",
        "file://" + str(collected / hashed_css),
        "http://tracker.example.invalid/p.png",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)
        assert url in fetcher.refused
    assert no_network == []
    # A page with a foreign image still renders, styled, without a request.
    html = f'<link rel="stylesheet" href="/static/{hashed_css}"><img src="http://x.invalid/a.png">'
    assert pdf_render(html=html + "<p>ok</p>").startswith(b"%PDF")
    assert staticfiles_storage.hashed_files
