"""Client names and phone numbers never reach the web server's access log: the search sends
them in a POST body, and gunicorn's access log (gunicorn.conf.py) drops query strings and
referrers, proven here with a real gunicorn."""

from __future__ import annotations

import contextlib
import re
import time
import urllib.request

import pytest
from django.urls import reverse

from tests import workers


@pytest.mark.django_db(transaction=True)
def test_gunicorn_access_log_holds_no_query_string_or_referrer(tmp_path):
    log = tmp_path / "access.log"
    with workers.gunicorn(f"--access-logfile={log}") as base:
        request = urllib.request.Request(  # noqa: S310
            f"{base}/clients/?q=Jordan+Example+555-0104",
            headers={"Referer": f"{base}/clients/?q=Casey+Sample+555-0199"},
        )
        # A redirect to the login page or an error: only the log line matters.
        with contextlib.suppress(OSError):
            urllib.request.urlopen(request, timeout=5)  # noqa: S310
        time.sleep(0.5)
    text = log.read_text()
    assert '"GET /clients/ HTTP/1.1"' in text, text
    for secret in ("Jordan", "Casey", "555", "q="):
        assert secret not in text, text


@pytest.mark.django_db
def test_client_search_sends_the_query_in_the_body_never_the_url(counselor_client):
    page = counselor_client.get(reverse("crisis_sessions:client_search")).content.decode()
    assert 'method="post"' in page and "hx-post=" in page
    # The only GET the page polls is the bell's, which carries no query of the user's.
    gets = re.findall(r'hx-get="([^"]*)"', page)
    assert all(url.startswith(reverse("notifications:bell")) for url in gets), gets
    assert "hx-push-url" not in page
    # A query in the URL (an old bookmark) is not searched, so nobody is led to put it there.
    response = counselor_client.get(reverse("crisis_sessions:client_search"), {"q": "Jordan"})
    assert response.status_code == 200 and response.context["q"] == ""
