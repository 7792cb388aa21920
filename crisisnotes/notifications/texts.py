"""Texts written for their recipient, in the recipient's language, by Python or by the database.

A notification and its e-mail are written when the event happens and read later by one user, so
they are written in that user's interface language (`User.language`; the default language,
English, when they chose none): docs/i18n.md. The bulk notifiers (the follow-up scan) write
thousands of them in one statement. There the database picks each row's text with a `CASE` over
the recipient's language column, among the translations Python made once per language here, so
a text keeps one home, its message id in the catalogue, whichever of the two writes it."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.utils import translation

# An SQL expression and its parameters, in order.
SqlText = tuple[str, list[Any]]

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def recipient_language(language: str) -> str:
    """The language a text for a user with this `User.language` is written in."""
    return language or settings.LANGUAGE_CODE


def _interpolated(template: str, values: Mapping[str, SqlText]) -> SqlText:
    """`template` (a translated text with `%(name)s` placeholders) as SQL: its literal parts as
    parameters, each placeholder as its value's expression, joined with `||`."""
    pieces: list[str] = []
    params: list[Any] = []
    for index, part in enumerate(_PLACEHOLDER.split(template)):
        if index % 2:  # a placeholder's name
            sql, value_params = values[part]
            pieces.append(f"({sql})")
            params.extend(value_params)
        elif part:
            pieces.append("%s")
            params.append(part)
    return " || ".join(pieces) or "''", params


def text_in_recipient_language_sql(
    template: Callable[[], str],
    *,
    language_column: str,
    values: Mapping[str, SqlText | Callable[[], SqlText]] | None = None,
) -> SqlText:
    """The SQL of the text `template()` returns (translated with `gettext` when called; it may
    hold `%(name)s` placeholders) in the language of each row's recipient, whose
    `User.language` is `language_column`: one branch per language of `settings.LANGUAGES`,
    each translated here under that language, the default language for a user who chose none.
    A value that depends on the language (a translated label) is a callable, called under each
    branch's language too."""
    values = values or {}
    branches: dict[str, SqlText] = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            resolved = {
                name: value() if callable(value) else value for name, value in values.items()
            }
            branches[code] = _interpolated(template(), resolved)
    default_sql, default_params = branches.pop(settings.LANGUAGE_CODE)
    if not branches:
        return default_sql, default_params
    sql = f"CASE {language_column}"
    params: list[Any] = []
    for code, (branch_sql, branch_params) in branches.items():
        sql += f" WHEN %s THEN {branch_sql}"
        params += [code, *branch_params]
    return f"{sql} ELSE {default_sql} END", [*params, *default_params]
