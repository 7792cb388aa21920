"""HTML pieces every area's rows built in Python use (the audit log, the review queue, the team's
follow-ups, my work, the risk trend)."""

from __future__ import annotations

from collections.abc import Callable
from html import escape

from django.urls import reverse


def autoescaped(value: object) -> str:
    """What autoescape writes for a value: a value with __html__ as it is, any other through
    html.escape, as django.utils.html.conditional_escape and escape do — without their lazy-
    string wrapper and SafeString per call, which a page of 100-200 rows pays ~1,000 times."""
    html_method = getattr(value, "__html__", None)
    return html_method() if html_method is not None else escape(str(value))


def pk_url_parts(name: str) -> tuple[str, str]:
    """The address of URL `name` (one integer argument) around its pk, reversed once for a
    list of rows: `before + str(pk) + after` is `reverse(name, args=[pk])`."""
    before, after = reverse(name, args=[0]).rsplit("0", 1)
    return before, after


def pk_url(name: str) -> Callable[[int], str]:
    """`reverse(name, args=[pk])` for any pk, reversed once (pk_url_parts)."""
    before, after = pk_url_parts(name)
    return lambda pk: f"{before}{int(pk)}{after}"
