"""One trusted-proxy rule for the client's address (audit log and lockout)."""

import pytest

from crisisnotes.net import client_ip


@pytest.mark.parametrize(
    ("count", "forwarded", "expected"),
    [
        (0, "", "10.0.0.9"),
        (0, "203.0.113.7", "10.0.0.9"),  # no proxy: a client's header is ignored
        (1, "203.0.113.7", "203.0.113.7"),  # the proxy's entry
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # forged entry to the left: ignored
        (2, "6.6.6.6, 203.0.113.7, 10.0.0.2", "203.0.113.7"),
        (2, "203.0.113.7", "10.0.0.9"),  # fewer hops than proxies: not through them all
        (1, "not-an-address", "10.0.0.9"),
    ],
)
def test_client_ip_follows_the_trusted_proxy_count(rf, settings, count, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = rf.get("/", REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
