"""The client's address: one rule for the audit log and the login lockout (django-axes)."""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _valid(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The address of whoever sent the request, never one the client chose.

    With TRUSTED_PROXY_COUNT = 0 (no proxy) that is REMOTE_ADDR and X-Forwarded-For is ignored.
    Behind N trusted proxies each one appends the address it received the request from, so the
    client is the N-th entry from the right of X-Forwarded-For; anything to its left was written
    by the client and is not believed. A request with fewer entries than proxies did not come
    through them all, and falls back to REMOTE_ADDR."""
    remote = _valid(request.META.get("REMOTE_ADDR", "") or "")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    hops = [hop for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
    if len(hops) < count:
        return remote
    return _valid(hops[-count]) or remote
