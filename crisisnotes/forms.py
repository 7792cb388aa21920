"""Form pieces every area uses: the day input and the order check of a period of days."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


def day_field(label: StrOrPromise) -> forms.DateField:
    """An optional day, typed in the browser's date picker and shown back as ISO (the value a
    date input needs, whatever the interface language)."""
    return forms.DateField(
        required=False,
        label=label,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )


def period_check_order(data: dict[str, Any]) -> None:
    """Refuse (a form-wide error) a period whose "date_from" is after its "date_to"; either end
    may be empty."""
    start, end = data.get("date_from"), data.get("date_to")
    if start and end and start > end:
        raise forms.ValidationError(_("“From” must not be after “To”."))
