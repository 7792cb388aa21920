"""docs/input-limits.md lists every limited field of the app with its real limit, so the
documentation cannot drift from the models (a new free-text field must be added to the table)."""

from __future__ import annotations

import re
from pathlib import Path

from django.apps import apps
from django.conf import settings

from crisisnotes.validators import LimitedTextField, SafeCharField, SafeJSONField

DOC = Path(settings.BASE_DIR) / "docs" / "input-limits.md"


def _documented() -> dict[tuple[str, str], str]:
    rows = re.findall(r"^\| (\w+) \| `(\w+)` \| \w+ \| ([^|]+) \|$", DOC.read_text(), re.M)
    return {(model, field): limit.strip() for model, field, limit in rows}


def test_every_limited_field_is_in_the_table_with_its_limit():
    documented = _documented()
    missing = []
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if not isinstance(field, (LimitedTextField, SafeCharField, SafeJSONField)):
                continue
            limit = f"{field.max_length:,}" if field.max_length else "— (strings checked)"
            if documented.get((model.__name__, field.name)) != limit:
                missing.append(f"{model.__name__}.{field.name} ({limit})")
    assert not missing, f"update docs/input-limits.md: {missing}"
    assert len(documented) > 50


def test_free_text_columns_of_the_record_are_all_limited():
    """A plain TextField in our apps would be an unbounded, unchecked column."""
    plain = [
        f"{model.__name__}.{field.name}"
        for model in apps.get_models()
        if model._meta.app_label in {"crisis_sessions", "safety", "accounts"}
        for field in model._meta.concrete_fields
        if type(field).__name__ == "TextField"
    ]
    # ExportJob.error is written by the export task (an exception's text), never typed.
    assert plain == ["ExportJob.error"]


def test_every_form_of_the_app_cleans_its_text():
    """Every form class in our apps takes CleanTextFormMixin (the one control-character and
    length rule). The login form is the exception: it stores nothing, and Django's own field
    already refuses NUL."""
    import importlib
    import inspect

    from django import forms

    from crisisnotes.validators import CleanTextFormMixin

    modules = [
        "crisisnotes.accounts.forms",
        "safety.forms",
        "sessions.forms.clients",
        "sessions.forms.exports",
        "sessions.forms.followups",
        "sessions.forms.notes",
        "sessions.forms.review",
    ]
    unclean = []
    for name in modules:
        module = importlib.import_module(name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if (
                cls.__module__ == name
                and issubclass(cls, forms.BaseForm)
                and not issubclass(cls, CleanTextFormMixin)
                and cls.__name__ != "LoginForm"
            ):
                unclean.append(f"{name}.{cls.__name__}")
    assert unclean == []
