"""`|light_field` / `|light_form` write crispy's Bootstrap 5 markup without its templates: the
note page's fields must come out the same (tags, attributes in order, text) as through crispy,
empty, filled and with errors, so note.js, the browser tests and screen readers see no change."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from html.parser import HTMLParser
from typing import Any

import pytest
from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field, as_crispy_form
from django import forms

from safety.forms import SafetyPlanForm, SupervisorRecordForm
from sessions.forms.notes import AddendumForm
from sessions.services.notes import note_forms
from sessions.templatetags.light_fields import light_field, light_form, light_tag, light_widget
from tests.sessions.note_helpers import complete_data, form_data, start_note

pytestmark = pytest.mark.django_db


class _Tokens(HTMLParser):
    """Tags with their attributes in order and the text between them; whitespace between tags
    and around text is not markup (crispy's templates indent, the light filters do not)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tokens: list[tuple[Any, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tokens.append(("start", tag, tuple(attrs)))

    def handle_endtag(self, tag: str) -> None:
        self.tokens.append(("end", tag))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.tokens.append(("text", " ".join(data.split())))


def tokens(html: str) -> list[tuple[Any, ...]]:
    parser = _Tokens()
    parser.feed(str(html))
    parser.close()
    return parser.tokens


FormsFactory = Callable[[], list[forms.BaseForm]]


def assert_same_markup(make_forms: FormsFactory) -> int:
    """Each field of fresh forms through crispy and through the light filter (fresh forms each
    time: crispy keeps its classes on the widgets), then each whole form. Returns the count."""
    checked = 0
    crispy_forms, light_forms = make_forms(), make_forms()
    for crispy_form, light in zip(crispy_forms, light_forms, strict=True):
        for name in crispy_form.fields:
            expected = tokens(as_crispy_field(crispy_form[name]))
            assert tokens(light_field(light[name])) == expected, f"{light.prefix}-{name}"
            checked += 1
    for crispy_form, light in zip(make_forms(), make_forms(), strict=True):
        assert tokens(light_form(light)) == tokens(as_crispy_form(crispy_form)), light.prefix
    return checked


def _note_forms(note: Any, data: dict[str, Any] | None) -> FormsFactory:
    def make() -> list[forms.BaseForm]:
        return [f for fs in note_forms(note=note, data=data).values() for f in fs]

    return make


def test_note_fields_match_crispy_empty(counselor: Any) -> None:
    note = start_note(counselor)
    assert assert_same_markup(_note_forms(note, None)) > 50


def test_note_fields_match_crispy_filled(counselor: Any) -> None:
    note = start_note(counselor)
    data = complete_data(
        note,
        **{
            "safety-screen-q1": "yes",
            "safety-means-firearms": "yes",
            "follow_up-referral_0_to": 'Clinic <"A"> & co',
        },
    )
    assert assert_same_markup(_note_forms(note, data)) > 50


def test_note_fields_match_crispy_with_errors(counselor: Any) -> None:
    note = start_note(counselor)
    data = form_data(
        note,
        **{
            "exploration-suds_start": "eleven",
            "header-started_at": "not a time",
            "follow_up-disposition": "nowhere",
            "safety-means-agitation": "99",
            "rapport-resources_given": ["not-a-resource"],
        },
    )
    make = _note_forms(note, data)
    invalid = [f for f in make() if not f.is_valid()]
    assert invalid, "the data must be invalid for this test to mean anything"

    def validated() -> list[forms.BaseForm]:
        built = make()
        for form in built:
            form.is_valid()
        return built

    assert assert_same_markup(validated) > 50
    shown = "".join(light_field(f[name]) for f in validated() for name in f.fields)
    assert shown.count("is-invalid") >= 5


def test_side_panel_forms_match_crispy(counselor: Any, supervisor: Any) -> None:
    def make() -> list[forms.BaseForm]:
        record = SupervisorRecordForm.for_user(counselor, data={"method": "fax"})
        record.is_valid()
        addendum = AddendumForm(data={"kind": "nonsense", "text": ""})
        addendum.is_valid()
        return [
            SupervisorRecordForm.for_user(counselor),
            record,
            SafetyPlanForm(contacts={}),
            AddendumForm(),
            addendum,
        ]

    assert assert_same_markup(make) > 5


def test_bare_widgets_match_django(counselor: Any) -> None:
    from sessions.forms.followups import FollowUpTaskForm
    from sessions.selectors.followups import followup_assignee_choices

    note = start_note(counselor)
    bound = FollowUpTaskForm(
        {"followup-due_at": "soon", "followup-method": "call", "followup-purpose": "<b>"},
        counselors=followup_assignee_choices(user=counselor),
        prefix="followup",
    )
    bound.is_valid()
    unbound = FollowUpTaskForm(counselors=followup_assignee_choices(user=counselor), prefix="x")
    forms_ = [bound, unbound, *(f for fs in note_forms(note=note).values() for f in fs)]
    checked = 0
    for form in forms_:
        for name in form.fields:
            assert tokens(light_widget(form[name])) == tokens(str(form[name])), name
            checked += 1
    assert checked > 60
    assert counselor.display_name in light_widget(unbound["assigned_to"])


@pytest.mark.parametrize("language", ["en", "es"])
def test_an_options_tag_is_djangos_byte_for_byte(counselor: Any, language: str) -> None:
    """`{{ radio|light_tag }}` against `{{ radio.tag }}` for every option of every radio and
    checkbox list of the note page's forms, empty, filled and invalid."""
    from django.utils import translation

    note = start_note(counselor)
    filled = complete_data(note, **{"safety-screen-q1": "yes", "safety-means-firearms": "yes"})
    invalid = form_data(note, **{"follow_up-disposition": "<nowhere>"})
    checked = 0
    with translation.override(language):
        for data in (None, filled, invalid):
            for section_forms in note_forms(note=note, data=data).values():
                for form in section_forms:
                    if data is not None:
                        form.is_valid()
                    for name, field in form.fields.items():
                        if not isinstance(field.widget, forms.RadioSelect):
                            continue  # CheckboxSelectMultiple is a RadioSelect too
                        for option in form[name]:
                            assert str(light_tag(option)) == str(option.tag()), (name, option)
                            checked += 1
    assert checked > 150


# --- Static parts (light_fields._PARTS): built once per field set-up, reused with any value ---


def _full(field: Any) -> str:
    """The light markup written in full, without the static parts."""
    from unittest import mock

    from sessions.templatetags import light_fields

    with mock.patch.object(light_fields, "_cached_parts", return_value=None):
        return str(light_field(field))


def _fields(note: Any, data: dict[str, Any] | None) -> list[Any]:
    return [
        f[name] for fs in note_forms(note=note, data=data).values() for f in fs for name in f.fields
    ]


@pytest.mark.parametrize("language", ["en", "es"])
def test_static_parts_give_the_full_markup_whatever_value_filled_them(
    counselor: Any, language: str
) -> None:
    """The parts built from an empty note serve a filled one, and the other way round: every
    field byte for byte as written in full, in both languages (labels are translated text)."""
    from django.utils import translation

    from sessions.templatetags import light_fields

    note = start_note(counselor)
    filled = complete_data(
        note,
        **{
            "safety-screen-q1": "yes",
            "safety-means-firearms": "yes",
            "safety-formulation-risk_factors": ["hopelessness", "isolation"],
            "follow_up-referral_0_to": 'Clinic <"A"> & co',
            "follow_up-referral_0_made": "on",
            "exploration-suds_start": "0",
        },
    )
    with translation.override(language):
        for first, then in ((None, filled), (filled, None)):
            light_fields._PARTS.clear()
            for field in _fields(note, first):
                light_field(field)  # builds the parts from `first`'s values
            assert light_fields._PARTS, "nothing was cached"
            checked = 0
            for cached, full in zip(_fields(note, then), _fields(note, then), strict=True):
                assert str(light_field(cached)) == _full(full), cached.html_name
                checked += 1
            assert checked > 50


def test_static_parts_are_per_language(counselor: Any) -> None:
    from django.utils import translation

    from sessions.templatetags import light_fields

    note = start_note(counselor)
    light_fields._PARTS.clear()
    with translation.override("en"):
        english = [str(light_field(f)) for f in _fields(note, None)]
    with translation.override("es"):
        spanish = [str(light_field(f)) for f in _fields(note, None)]
        assert spanish == [_full(f) for f in _fields(note, None)]
    assert spanish != english


def test_static_parts_follow_a_form_whose_fields_change_per_instance(counselor: Any) -> None:
    """The means form's agitation scale depends on the modality (BARS 1-7 face to face, 0-10
    otherwise): each set-up gets its own parts, never the other's options."""
    from safety.forms import MeansForm
    from sessions.templatetags import light_fields

    note = start_note(counselor)
    light_fields._PARTS.clear()
    for modality in ("phone", "in_person", "phone", "in_person"):
        cached = MeansForm(instance=note.means_safety, prefix="safety-means", modality=modality)
        full = MeansForm(instance=note.means_safety, prefix="safety-means", modality=modality)
        assert str(light_field(cached["agitation"])) == _full(full["agitation"]), modality
    assert str(light_field(cached["agitation"])) != str(
        light_field(
            MeansForm(instance=note.means_safety, prefix="safety-means", modality="phone")[
                "agitation"
            ]
        )
    )


def test_no_static_parts_for_querysets_or_the_clinics_resources(counselor: Any) -> None:
    from sessions.templatetags import light_fields

    note = start_note(counselor)
    light_fields._PARTS.clear()
    forms_ = note_forms(note=note)
    for fs in forms_.values():
        for form in fs:
            for name in form.fields:
                light_field(form[name])
    names = {key[8] for key in light_fields._PARTS}
    assert "header-started_at" in names
    assert "header-answers_task" not in names  # a client's open tasks (a queryset)
    assert "rapport-resources_given" not in names  # the clinic's directory


def test_static_parts_of_a_localized_field_format_its_value_every_time() -> None:
    """A `localize` field's widget is marked localized before its key is made: the parts
    built by the first form serve the next one, whose widget is a fresh copy."""
    from django.utils import translation

    from sessions.templatetags import light_fields

    class Amount(forms.Form):
        amount = forms.DecimalField(localize=True, required=False)

    light_fields._PARTS.clear()
    with translation.override("es"):
        for value in (Decimal("1234.5"), Decimal("7.25")):
            cached, full = Amount(initial={"amount": value}), Amount(initial={"amount": value})
            assert str(light_field(cached["amount"])) == _full(full["amount"])
            assert str(light_widget(cached["amount"])) == str(full["amount"])
        assert 'value="7,25"' in str(
            light_field(Amount(initial={"amount": Decimal("7.25")})["amount"])
        )


def test_css_classes_of_the_form_and_the_label_kind_reach_the_markup() -> None:
    """A form with `required_css_class` / `error_css_class` gets them on the wrapper, as
    crispy writes it (without them the class list is empty, read without BoundField's own
    look-up); a field's label printed as a SafeString and as a str of the same text get
    parts of their own (one escapes, the other not)."""
    from django.utils.safestring import mark_safe

    from sessions.templatetags import light_fields

    class Styled(forms.Form):
        required_css_class = "is-required"
        error_css_class = "has-error"
        name = forms.CharField()
        note = forms.CharField(required=False, widget=forms.Textarea)

    light_fields._PARTS.clear()
    for data in (None, {"note": "x"}, {"name": "n", "note": "x"}):
        for name in ("name", "note"):
            assert tokens(light_field(Styled(data)[name])) == tokens(
                as_crispy_field(Styled(data)[name])
            ), (data, name)

    class Plain(forms.Form):
        name = forms.CharField(label="<b>Name</b>")

    class Safe(forms.Form):
        name = forms.CharField(label=mark_safe("<b>Name</b>"))

    for form_class in (Plain, Safe, Plain):
        assert tokens(light_field(form_class()["name"])) == tokens(
            as_crispy_field(form_class()["name"])
        ), form_class.__name__
