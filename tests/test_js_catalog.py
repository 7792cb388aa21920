"""The JavaScript catalogue at an address the browser keeps (crisisnotes/js_catalog.py), while
every page that shows client records stays no-store (crisisnotes.middleware.NoStoreMiddleware)."""

import re

import pytest
from django.urls import reverse

from crisisnotes.js_catalog import catalog_digest, catalog_version

pytestmark = pytest.mark.django_db


def _catalog_src(page: str) -> str:
    found = re.search(r'<script src="([^"]*jsi18n[^"]*)"', page)
    assert found is not None, page[:2000]
    return found.group(1).replace("&amp;", "&")


def test_a_page_names_its_language_and_the_catalogues_version(counselor_client, counselor):
    src = _catalog_src(
        counselor_client.get(reverse("crisis_sessions:client_search")).content.decode()
    )
    assert src == f"/jsi18n/?l=en&v={catalog_version()}"
    counselor.language = "es"
    counselor.save()
    src = _catalog_src(
        counselor_client.get(reverse("crisis_sessions:client_search")).content.decode()
    )
    assert src == f"/jsi18n/?l=es&v={catalog_version()}"


def test_the_catalogue_at_its_address_is_kept_and_the_page_is_not(counselor_client):
    page = counselor_client.get(reverse("crisis_sessions:client_search"))
    assert "no-store" in page["Cache-Control"]  # the page: never kept
    catalog = counselor_client.get(_catalog_src(page.content.decode()))
    assert catalog.status_code == 200
    control = catalog["Cache-Control"]
    assert "immutable" in control and "max-age=31536000" in control and "private" in control
    assert "no-store" not in control and "no-cache" not in control


@pytest.mark.parametrize(
    "query",
    ["", "?l=en&v=0123456789ab", "?l=es&v={version}", "?v={version}"],
    ids=["bare", "old version", "other language", "no language"],
)
def test_any_other_address_gets_the_catalogue_uncached(counselor_client, query):
    response = counselor_client.get("/jsi18n/" + query.format(version=catalog_version()))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "immutable" not in response["Cache-Control"]


def test_the_login_page_uses_it_too(client):
    src = _catalog_src(client.get(reverse("login")).content.decode())
    assert src == f"/jsi18n/?l=en&v={catalog_version()}"
    assert "immutable" in client.get(src)["Cache-Control"]


def test_the_version_follows_the_catalogues_bytes(tmp_path):
    mo = tmp_path / "es" / "LC_MESSAGES" / "djangojs.mo"
    mo.parent.mkdir(parents=True)
    mo.write_bytes(b"one")
    first = catalog_digest([mo])
    assert catalog_digest([mo]) == first
    mo.write_bytes(b"two")
    assert catalog_digest([mo]) != first
    # The same release in another folder (another web server) has the same address.
    elsewhere = tmp_path / "release-b" / "locale" / "es" / "LC_MESSAGES" / "djangojs.mo"
    elsewhere.parent.mkdir(parents=True)
    elsewhere.write_bytes(b"two")
    assert catalog_digest([elsewhere]) == catalog_digest([mo])


def test_the_context_processor_writes_the_address_of_the_language_the_page_is_written_in(rf):
    from django.utils import translation

    from crisisnotes.js_catalog import js_catalog

    request = rf.get("/")
    lazy_url = js_catalog(request)["js_catalog_url"]
    # Worked out when the page prints it, in the language active then (once per language).
    with translation.override("es"):
        assert str(lazy_url) == f"/jsi18n/?l=es&v={catalog_version()}"
    with translation.override("en"):
        assert str(lazy_url) == f"/jsi18n/?l=en&v={catalog_version()}"
        assert str(js_catalog(request)["js_catalog_url"]) == str(lazy_url)
    assert type(js_catalog(request)["js_catalog_url"]) is type(lazy_url)  # one proxy class
