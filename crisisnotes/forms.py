"""Form pieces every area uses: the day input, the order check of a period of days, and short
model choice lists read in one query."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django import forms
from django.db.models import QuerySet
from django.forms.models import ModelChoiceIterator
from django.utils.translation import gettext_lazy as _

from crisisnotes.prepared import rows_read, with_rows

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


class ShortListChoiceIterator(ModelChoiceIterator):
    """A ModelChoiceField's options read with one plain SELECT, kept on the field's queryset for
    the rest of the request. Django's iterator uses `QuerySet.iterator()`, which on PostgreSQL
    is a server-side cursor (DECLARE, FETCH, CLOSE: three round trips) opened again at every
    rendering and validation; for a clinic's users or a client's open tasks (tens of rows) one
    cached read is cheaper. Not for unbounded lists."""

    def __iter__(self) -> Any:
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        read = getattr(self.field, "read_rows", None)
        if read is not None and rows_read(self.queryset) is None:
            with_rows(self.queryset, read())
        for obj in self.queryset:
            yield self.choice(obj)


def short_choice_list(
    field: forms.Field,
    queryset: QuerySet[Any] | None = None,
    *,
    rows: Callable[[], list[Any]] | None = None,
) -> None:
    """Read `field`'s options as a short list (ShortListChoiceIterator). With `queryset`, that
    becomes the field's, with the rows it already holds if it was read (the field keeps a copy,
    which would read them again). `rows` reads the same rows as the queryset, once they are
    listed (a `PreparedRead` of the queryset, compiled once: crisisnotes/prepared.py); a form
    that is only validated reads the chosen one through the queryset, not the list."""
    assert isinstance(field, forms.ModelChoiceField)
    if queryset is not None:
        field.queryset = queryset
        read = rows_read(queryset)
        if read is not None:
            with_rows(field.queryset, read)
    field.read_rows = rows  # type: ignore[attr-defined]
    field.iterator = ShortListChoiceIterator
    field.widget.choices = field.choices  # the widget took its choices when the queryset was set
