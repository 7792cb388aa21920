"""Each form instance's copy of its class's fields, made without `copy.deepcopy`'s machinery.

`BaseForm.__init__` gives every instance `copy.deepcopy(self.base_fields)`, so that an instance
may change its fields (choices, labels, widget attributes) without touching the class's or
another instance's. The note page builds eleven forms, ~200 fields: the deep copies were half of
the forms' construction time (bench/README.md, issue 15), spent in `copy`'s dispatch, memo and
`__reduce_ex__` and in `normalize_choices` walking every choice list again through ABC checks.

`fast_field_copies` makes the same copies directly: what Django's `Field.__deepcopy__`,
`ChoiceField.__deepcopy__`, `Widget.__deepcopy__` and `ChoiceWidget.__deepcopy__` make (a new
field and widget with the same attributes; their own `attrs`, `error_messages`, `validators`
and choice lists, groups included), for exactly those classes. A field or widget with a
`__deepcopy__` of its own (a `ModelChoiceField`, multi-value fields and widgets) or a copy
protocol of its own is copied by `copy.deepcopy` as before, and choices that are not a plain
list of plain values (a model field's lazy list with its blank choice) as Django copies them.
The choice tuples themselves are shared rather than rebuilt equal:
tuples of strings, numbers and lazy translations are immutable. tests/sessions/
test_field_copies.py compares every note form's copies with Django's, attribute by attribute,
and checks that changing one instance's fields leaves the class and other instances alone.
"""

from __future__ import annotations

import copy
from typing import Any, TypeVar

from django import forms
from django.forms.fields import ChoiceField, Field
from django.forms.widgets import ChoiceWidget, Widget
from django.utils.functional import Promise

_FormClass = TypeVar("_FormClass", bound=type[forms.BaseForm])

_ATOMS = (str, int, float, bool, type(None), Promise)


def _plainly_copied(cls: type) -> bool:
    """Whether `copy.copy` of an instance of `cls` is `cls.__new__(cls)` given the instance's
    `__dict__` (object's own reduce protocol, no __copy__, __getstate__ or __setstate__)."""
    return (
        cls.__reduce_ex__ is object.__reduce_ex__
        and cls.__reduce__ is object.__reduce__
        and cls.__getstate__ is object.__getstate__
        and not hasattr(cls, "__copy__")
        and not hasattr(cls, "__setstate__")
        and not hasattr(cls, "__slots__")
    )


def _shallow(obj: Any) -> Any:
    new = object.__new__(type(obj))
    new.__dict__.update(obj.__dict__)
    return new


def _copied_choices(choices: Any) -> list[Any] | None:
    """A new list of `choices` (a normalized list: (value, label) pairs, a group's label a list
    of pairs), each group's list new too; None when they are anything else."""
    if type(choices) is not list:
        return None
    out: list[Any] = []
    for item in choices:
        if type(item) is not tuple or len(item) != 2 or not isinstance(item[0], _ATOMS):
            return None
        label = item[1]
        if isinstance(label, _ATOMS):
            out.append(item)
            continue
        if type(label) is not list:
            return None
        for pair in label:
            if (
                type(pair) is not tuple
                or len(pair) != 2
                or not isinstance(pair[0], _ATOMS)
                or not isinstance(pair[1], _ATOMS)
            ):
                return None
        out.append((item[0], list(label)))
    return out


_FIELD_COPIERS = (Field.__deepcopy__, ChoiceField.__deepcopy__)
_WIDGET_COPIERS = (Widget.__deepcopy__, ChoiceWidget.__deepcopy__)


def copy_field(field: Field) -> Field:
    """What `copy.deepcopy(field)` returns, made directly when the field and its widget are
    copied by Django's stock `__deepcopy__` (see the module docstring); else deepcopy's."""
    field_type, widget = type(field), field.widget
    widget_type = type(widget)
    field_copier = field_type.__deepcopy__
    widget_copier = widget_type.__deepcopy__
    if (
        field_copier not in _FIELD_COPIERS
        or widget_copier not in _WIDGET_COPIERS
        or not _plainly_copied(field_type)
        or not _plainly_copied(widget_type)
    ):
        return copy.deepcopy(field)
    new_widget = _shallow(widget)
    new_widget.attrs = widget.attrs.copy()
    new = _shallow(field)
    new.widget = new_widget
    new.error_messages = field.error_messages.copy()
    new.validators = field.validators[:]
    if widget_copier is ChoiceWidget.__deepcopy__:
        choices = _copied_choices(widget.choices)
        if choices is None:  # lazy or unusual choices: as ChoiceWidget.__deepcopy__ does
            new_widget.choices = copy.copy(widget.choices)
        else:
            new_widget._choices = choices
    if field_copier is ChoiceField.__deepcopy__:
        choices = _copied_choices(field._choices)  # type: ignore[attr-defined]
        if choices is None:  # as ChoiceField.__deepcopy__ does
            memo = {id(field): new, id(widget): new_widget}
            choices = copy.deepcopy(field._choices, memo)  # type: ignore[attr-defined]
        new._choices = choices
    return new


class _FieldTemplates(dict[str, Field]):
    """A form class's `base_fields`, deep-copied (by BaseForm.__init__) with `copy_field`."""

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Field]:
        return {name: copy_field(field) for name, field in self.items()}


def class_choices(
    form_class: type[forms.BaseForm],
    name: str,
    choices: Any,
    *,
    required: bool | None = None,
) -> None:
    """Set a field's choices (and `required`) once, on the form class's own field, where each
    instance copies it from: for choices that are the same for every instance (an enum's,
    labels translated lazily at rendering). Set in `__init__` they were normalized again by
    every form of every page, after the copy had already deep-copied the model field's lazy
    choice list they replaced. Never for choices that depend on the instance or the request
    (a clinic's list, a note's own rows): those stay in `__init__`."""
    field = form_class.base_fields[name]  # type: ignore[attr-defined]
    assert isinstance(field, ChoiceField)
    field.choices = choices
    if required is not None:
        field.required = required


def fast_field_copies(form_class: _FormClass) -> _FormClass:
    """Class decorator: instances of `form_class` get their fields by `copy_field` (the same
    copies as Django's deep copy, cheaper). Subclasses are not affected: their metaclass
    builds their own `base_fields`."""
    form_class.base_fields = _FieldTemplates(form_class.base_fields)  # type: ignore[attr-defined]
    return form_class
