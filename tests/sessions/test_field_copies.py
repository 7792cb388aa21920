"""The note page's forms copy their fields per instance with `copy_field`
(sessions/forms/field_copies.py) instead of `copy.deepcopy`: the copies must be Django's,
attribute by attribute, and one instance's changes must never reach the class or another
instance."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django import forms

from safety.forms import FormulationForm, MeansForm, ScreenForm, SupervisorRecordForm
from sessions.forms import field_copies
from sessions.forms.field_copies import _FieldTemplates, copy_field, fast_field_copies
from sessions.forms.notes import (
    AddendumForm,
    ExplorationForm,
    FollowUpForm,
    NoteHeaderForm,
    ProblemSolvingForm,
    ProcessNoteForm,
    QuickNoteForm,
    RapportForm,
)

FORMS = [
    NoteHeaderForm,
    ExplorationForm,
    RapportForm,
    ProblemSolvingForm,
    FollowUpForm,
    QuickNoteForm,
    ProcessNoteForm,
    AddendumForm,
    ScreenForm,
    FormulationForm,
    MeansForm,
    SupervisorRecordForm,
]


def _mutables(value: Any) -> list[Any]:
    """The lists and dicts inside `value` (itself included), tuples walked through."""
    found: list[Any] = []
    if isinstance(value, list | dict):
        found.append(value)
    if isinstance(value, list | tuple):
        for item in value:
            found.extend(_mutables(item))
    return found


def assert_same_copy(original: Any, fast: Any, deep: Any, where: str) -> None:
    """`fast` has what `deep` (Django's deep copy of `original`) has: the same attributes; the
    very objects where the deep copy kept the original's, equal values of its own where the deep
    copy made new ones; and no list or dict shared with the original that the deep copy does
    not share too."""
    stock = (*field_copies._FIELD_COPIERS, *field_copies._WIDGET_COPIERS)
    if type(original).__deepcopy__ not in stock:
        return  # deep-copied by copy_field too (test_the_note_forms_use_the_direct_copy)
    assert type(fast) is type(deep), where
    assert fast is not original, where
    assert fast.__dict__.keys() == deep.__dict__.keys(), where
    for key, deep_value in deep.__dict__.items():
        fast_value, original_value = fast.__dict__[key], original.__dict__[key]
        if key == "widget":
            assert_same_copy(original_value, fast_value, deep_value, f"{where}.widget")
        elif deep_value is original_value:
            assert fast_value is original_value, f"{where}.{key}"
        else:
            assert fast_value is not original_value, f"{where}.{key}"
            assert fast_value == deep_value, f"{where}.{key}"
        # A list or dict of the original's is shared only where the deep copy shares it too.
        theirs = {id(m) for m in _mutables(original_value)}
        allowed = {id(m) for m in _mutables(deep_value)} & theirs
        assert all(id(m) in allowed for m in _mutables(fast_value) if id(m) in theirs), (
            f"{where}.{key}"
        )


@pytest.mark.parametrize("form_class", FORMS, ids=lambda c: c.__name__)
def test_copies_are_djangos_deep_copies(form_class: type[forms.BaseForm]) -> None:
    assert isinstance(form_class.base_fields, _FieldTemplates)
    for name, field in form_class.base_fields.items():
        assert_same_copy(field, copy_field(field), copy.deepcopy(field), name)


def test_copies_of_fields_set_up_in_init_are_djangos_too(counselor: Any) -> None:
    """Fields as the forms' __init__ leave them (choices set, fields added) copy the same way."""
    form = FollowUpForm(prefix="follow_up")
    means = MeansForm(prefix="means", modality="in_person")
    screen, formulation = ScreenForm(prefix="s"), FormulationForm(prefix="f")
    for made in (form, means, screen, formulation, NoteHeaderForm(prefix="header")):
        for name, field in made.fields.items():
            assert_same_copy(field, copy_field(field), copy.deepcopy(field), name)


def test_grouped_and_unusual_choices() -> None:
    grouped = forms.MultipleChoiceField(
        choices=[("A", [("a1", "One"), ("a2", "Two")]), ("b", "B")],
        widget=forms.CheckboxSelectMultiple,
    )
    assert_same_copy(grouped, copy_field(grouped), copy.deepcopy(grouped), "grouped")
    # Not plain values: deepcopy's own copy (which copies the object too).
    odd = forms.ChoiceField(choices=[(object(), "x")])
    odd_copy = copy_field(odd)
    assert odd_copy.choices[0][0] is not odd.choices[0][0]  # type: ignore[index]
    callable_choices = forms.ChoiceField(choices=lambda: [("a", "A")])
    assert list(copy_field(callable_choices).choices) == [("a", "A")]


def test_the_note_forms_use_the_direct_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only fields Django copies in its own way (querysets) are deep-copied whole; a model
    field's lazy choices (BlankChoiceIterator) are the only choices copied Django's way."""
    fell_back: list[str] = []
    deepcopy = copy.deepcopy
    depth = [0]

    def counting(value: Any, memo: Any = None) -> Any:
        if not depth[0]:  # the deep copies copy_field asks for, not theirs within
            fell_back.append(type(value).__name__)
        depth[0] += 1
        try:
            return deepcopy(value, memo)
        finally:
            depth[0] -= 1

    for form_class in FORMS:
        for field in form_class.base_fields.values():
            monkeypatch.setattr(field_copies.copy, "deepcopy", counting)
            copy_field(field)
            monkeypatch.setattr(field_copies.copy, "deepcopy", deepcopy)
    assert set(fell_back) <= {"ModelChoiceField", "BlankChoiceIterator"}
    assert fell_back.count("ModelChoiceField") == 2


@pytest.mark.parametrize("form_class", FORMS, ids=lambda c: c.__name__)
def test_an_instance_changing_its_fields_leaves_class_and_others_alone(
    form_class: type[forms.BaseForm],
) -> None:
    before = {
        name: (field.label, dict(field.widget.attrs), list(getattr(field, "_choices", [])))
        for name, field in form_class.base_fields.items()
    }
    kwargs: dict[str, Any] = (
        {"supervisors": SupervisorRecordForm.base_fields["supervisor"].queryset}
        if form_class is SupervisorRecordForm
        else {}
    )
    changed, other = form_class(**kwargs), form_class(**kwargs)
    for field in changed.fields.values():
        field.label = "changed"
        field.widget.attrs["class"] = "changed"
        field.validators.append(lambda value: None)
        field.error_messages["changed"] = "changed"
        if type(getattr(field, "_choices", None)) is list:
            field._choices.append(("changed", "changed"))
            field.widget.choices.append(("changed", "changed"))
            for _value, label in field._choices:
                if isinstance(label, list):
                    label.append(("changed", "changed"))
    for name, field in form_class.base_fields.items():
        label, attrs, choices = before[name]
        assert (field.label, field.widget.attrs) == (label, attrs), name
        assert list(getattr(field, "_choices", [])) == choices, name
        mine = other.fields.get(name)
        if mine is not None and name in other.base_fields:
            assert "changed" not in (mine.label, mine.widget.attrs.get("class")), name
            assert "changed" not in mine.error_messages, name
            assert ("changed", "changed") not in list(getattr(mine, "_choices", [])), name


def test_subclasses_build_their_own_fields() -> None:
    @fast_field_copies
    class Base(forms.Form):
        text = forms.CharField()

    class Sub(Base):
        more = forms.CharField()

    assert isinstance(Base.base_fields, _FieldTemplates)
    assert list(Sub().fields) == ["text", "more"]
    assert Sub().fields["text"] is not Base.base_fields["text"]
