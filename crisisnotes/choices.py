"""Labels of a model's choices for lists that show one per row.

Django's generated `get_<field>_display()` rebuilds a dict of every choice of the field on each
call (`dict(make_hashable(field.flatchoices))`). A list page calls it for every row and column:
100 rows of the audit log took ~50 ms of the page's ~100 (profiled, bench/pages_profile.py),
60 sessions on a client page ~10%. The dict is built once per field here instead.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import models
from django.utils.encoding import force_str
from django.utils.hashable import make_hashable


@cache
def _labels(field: models.Field[Any, Any]) -> dict[Any, Any]:
    return dict(make_hashable(field.flatchoices))


def choice_label(field: models.Field[Any, Any], value: Any) -> Any:
    """What `get_<field>_display()` answers for `value`, for rows read as values (no instance
    to call it on): the label in the active language, the value itself if it has none."""
    return force_str(_labels(field).get(make_hashable(value), value), strings_only=True)


class ChoiceLabelsMixin:
    """Put before models.Model in the bases of a model whose choices are fixed in code (enums,
    not callables or querysets): `get_<field>_display()` then reads labels from a dict built
    once. Lazy labels stay lazy in the dict, so each call still answers in the active language."""

    def _get_FIELD_display(self, field: models.Field[Any, Any]) -> Any:
        return choice_label(field, getattr(self, field.attname))
