"""`|light_field` and `|light_form`: crispy-forms' Bootstrap 5 markup for a field and a whole
form, built in Python (and `|light_widget`: Django's bare widget, `{{ field }}`).

The note page renders about 60 fields. Through crispy (`bootstrap5/field.html`, its five
includes per field, then Django's widget templates with one include per option and per
attribute list) that was about 60% of the page's server time. These filters write the same
markup — the same wrapper `div` ids and classes, labels, legends, `aria-*`, `required`, error
and help blocks, widget attributes in the same order — without the template engine; tests
(tests/sessions/test_light_fields.py) compare them with crispy's output field by field, empty,
filled and with errors, so note.js, the e2e tests and assistive technology see no difference.
Anything they do not know (a form with a crispy helper, file and multi-value widgets, hidden
initial values, widget templates other than Django's stock ones) is handed to crispy itself.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape as html_escape
from typing import Any

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field, as_crispy_form
from django import forms, template
from django.forms.boundfield import BoundField, BoundWidget
from django.utils.functional import Promise
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

register = template.Library()

# Django's stock widget templates that are only `{% include "django/forms/widgets/input.html" %}`.
_INPUT_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}.html"
    for name in (
        "input",
        "text",
        "number",
        "email",
        "url",
        "password",
        "hidden",
        "date",
        "datetime",
        "time",
        "checkbox",
        "search",
        "tel",
        "color",
    )
)
_TEXTAREA = "django/forms/widgets/textarea.html"
_SELECT = "django/forms/widgets/select.html"
_OPTION = "django/forms/widgets/select_option.html"
_SUPPORTED_TEMPLATES = _INPUT_TEMPLATES | {_TEXTAREA, _SELECT}


def _e(value: Any) -> str:
    """What `{{ value }}` prints under autoescape: a plain string through html.escape directly
    (what conditional_escape does to it, without its lazy-string wrapper and SafeString: a
    note page escapes ~4,000 values here)."""
    if type(value) is str:
        return html_escape(value)
    return str(conditional_escape(value))


def _attrs(attrs: dict[str, Any]) -> str:
    """django/forms/widgets/attrs.html (and crispy's bootstrap5/layout/attrs.html)."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {name}" if value is True else f' {name}="{_e(str(value))}"')
    return "".join(out)


def _has_errors(field: BoundField) -> bool:
    """`bool(field.errors)`, without the empty ErrorList BoundField.errors makes for a field
    without errors at every use (three uses a field, ~100 fields a note page)."""
    return bool(field.form.errors.get(field.name))


def _css_classes(field: BoundField) -> str:
    """`field.css_classes()`: "" for a form with neither `error_css_class` nor
    `required_css_class` (BoundField.css_classes adds only those), without its set and its
    look-up of the field's errors."""
    form = field.form
    if not hasattr(form, "error_css_class") and not hasattr(form, "required_css_class"):
        return ""
    return field.css_classes()


def _is_radio_like(widget: forms.Widget) -> bool:
    return isinstance(widget, forms.RadioSelect)  # CheckboxSelectMultiple is one too


def _supported(field: BoundField) -> bool:
    widget = field.field.widget
    if getattr(field.form, "helper", None) is not None or field.field.show_hidden_initial:
        return False
    if isinstance(widget, forms.FileInput | forms.MultiWidget) or hasattr(widget, "widget"):
        return False
    if _is_radio_like(widget):
        return True
    return widget.template_name in _SUPPORTED_TEMPLATES


def _add_class(field: BoundField, classes: str) -> None:
    """What crispy's `{% crispy_field field 'class' '…' %}` does to the widget's attrs (it keeps
    the change on the widget, so do we: the attribute order then matches)."""
    widget = field.field.widget
    class_name = widget.__class__.__name__.lower()
    css_class = widget.attrs.get("class", "")
    if css_class:
        if css_class.find(class_name) == -1:
            css_class += f" {class_name}"
    else:
        css_class = class_name
    for name in classes.split():
        if name not in css_class.split():
            css_class += f" {name}"
    widget.attrs["class"] = css_class


def _widget(field: BoundField) -> str:
    """BoundField.as_widget() with Django's stock widget templates written out in Python."""
    widget = field.field.widget
    if field.field.localize:
        widget.is_localized = True
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    context = widget.get_context(field.html_name, field.value(), attrs)["widget"]
    name = _e(context["name"])
    if widget.template_name in _INPUT_TEMPLATES:
        value = context["value"]
        value_attr = "" if value is None else f' value="{_e(str(value))}"'
        flat = _attrs(context["attrs"])
        return f'<input type="{_e(context["type"])}" name="{name}"{value_attr}{flat}>'
    if widget.template_name == _TEXTAREA:
        value = context["value"]
        text = _e(value) if value else ""
        return f'<textarea name="{name}"{_attrs(context["attrs"])}>\n{text}</textarea>'
    out = [f'<select name="{name}"{_attrs(context["attrs"])}>']
    for group_name, group_choices, _index in context["optgroups"]:
        if group_name:
            out.append(f'\n  <optgroup label="{_e(group_name)}">')
        for option in group_choices:
            if option["template_name"] != _OPTION:
                return str(field)
            out.append(_select_option(option))
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


def _select_option(option: dict[str, Any]) -> str:
    """django/forms/widgets/select_option.html."""
    return (
        f'\n  <option value="{_e(str(option["value"]))}"{_attrs(option["attrs"])}>'
        f"{_e(option['label'])}</option>"
    )


def _errors_block(field: BoundField) -> str:
    """bootstrap5/layout/field_errors_block.html."""
    if not _has_errors(field):  # without the empty ErrorList `field.errors` would make
        return ""
    items = "".join(
        f'<p id="error_{n}_{field.auto_id}"><strong>{_e(error)}</strong></p>'
        for n, error in enumerate(field.errors, start=1)
    )
    field_id = getattr(field.errors, "field_id", "")  # set by Django 5's BoundField.errors
    return f'<div id="{_e(field_id)}_error" class="invalid-feedback">{items}</div>'


def _help_text(field: BoundField) -> str:
    """bootstrap5/layout/help_text.html (help text is trusted HTML there too)."""
    if not field.help_text:
        return ""
    id_attr = f'id="{field.auto_id}_helptext" ' if field.auto_id else ""
    return f'<div {id_attr}class="form-text">{field.help_text}</div>'


def _required_mark(field: BoundField) -> tuple[str, str]:
    if field.field.required:
        return " requiredField", '<span class="asteriskField">*</span>'
    return "", ""


def _choices(field: BoundField) -> str:
    """bootstrap5/layout/radio_checkbox_select.html (crispy renders the options itself)."""
    widget = field.field.widget
    id_ = widget.attrs.get("id") or field.auto_id
    attrs = field.build_widget_attrs({"id": id_} if id_ else {})
    values = widget.format_value(field.value())
    groups = list(widget.optgroups(field.html_name, values, attrs))
    invalid = " is-invalid" if _has_errors(field) else ""
    out = ["<div>"]
    for group_index, (group, options, _index) in enumerate(groups):
        if group:
            out.append(f"<strong>{_e(group)}</strong>")
        for option_index, option in enumerate(options):
            out.append(_check_option(field, option, invalid))
            if option_index == len(options) - 1 and group_index == len(groups) - 1:
                out.append(_errors_block(field))
            out.append("</div>")
    out.append("</div>")
    out.append(_help_text(field))
    return "".join(out)


def _check_option(field: BoundField, option: dict[str, Any], invalid: str) -> str:
    """One radio or checkbox of bootstrap5/layout/radio_checkbox_select.html, without the
    `</div>` that closes it (the field's errors go before it, after the last option)."""
    return (
        f'<div class="form-check"><input type="{_e(option["type"])}" '
        f'class="form-check-input{invalid}" name="{_e(field.html_name)}" '
        f'value="{_e(str(option["value"]))}"{_attrs(option["attrs"])}>'
        f'<label for="{_e(option["attrs"].get("id", ""))}" class="form-check-label">'
        f"{_e(str(option['label']))}</label>"
    )


def _field(field: BoundField) -> str:
    """bootstrap5/field.html with as_crispy_field's context (labels and errors shown, no
    label or field class)."""
    widget = field.field.widget
    if widget.is_hidden:
        return str(field)
    radio_like = _is_radio_like(widget)
    if not radio_like:
        # Crispy keeps the class on the widget (so the attribute order follows it): before
        # the static parts are looked up, which see the widget's attributes.
        if isinstance(widget, forms.CheckboxInput):
            base = "form-check-input"
        else:
            base = "form-select" if isinstance(widget, forms.Select) else "form-control"
        _add_class(field, f"{base} is-invalid" if _has_errors(field) else base)
    if not _has_errors(field):
        parts = _cached_parts(field, "field")
        if parts is not None:
            return parts(field)
    head, tail = _frame(field)
    return f"{head}{_choices(field) if radio_like else _widget(field)}{tail}"


def _frame(field: BoundField) -> tuple[str, str]:
    """What bootstrap5/field.html writes before and after the widget (for a radio or checkbox
    list: before and after `_choices`)."""
    widget = field.field.widget
    classes = _css_classes(field)
    css = f" {classes}" if classes else ""
    required_class, asterisk = _required_mark(field)
    label = _e(field.label) if field.label else ""
    if isinstance(widget, forms.CheckboxInput):
        return (
            f'<div class="mb-3"><div id="div_{field.auto_id}" class="form-check{css}">',
            f'<label for="{_e(field.id_for_label)}" class="form-check-label{required_class}">'
            f"{label}{asterisk}</label>{_errors_block(field)}{_help_text(field)}</div></div>",
        )
    out = [f'<div id="div_{field.auto_id}" class="mb-3{css}">']
    fieldset = field.use_fieldset and bool(field.label)
    if field.label:
        if fieldset:
            described = (
                f' aria-describedby="{_e(field.aria_describedby)}"'
                if field.aria_describedby
                else ""
            )
            out.append(f"<fieldset{described}>")
        tag = "legend" if field.use_fieldset else "label"
        for_attr = f'for="{_e(field.id_for_label)}" ' if field.id_for_label else ""
        fs6 = " fs-6" if field.use_fieldset else ""
        out.append(
            f'<{tag} {for_attr}class="form-label{required_class}{fs6}">{label}{asterisk}</{tag}>'
        )
    after = [] if _is_radio_like(widget) else [_errors_block(field), _help_text(field)]
    if fieldset:
        after.append("</fieldset>")
    after.append("</div>")
    return "".join(out), "".join(after)


# --- Static parts --------------------------------------------------------------------------
#
# Most of a field's markup does not depend on its value: the wrapper, label, legend and help
# text, the widget's attribute string, each option's tag. They are built once per process for
# each distinct set-up of a field (its widget's class and attributes, name and id, label, help
# text, required, choices, in the active language) and each request only writes the value in:
# the `value` attribute, the textarea's text, which options are `selected` or `checked`. The
# key is made of what is printed (labels as text, never object identity), so a form whose
# fields or choices change per instance (another clinic's list, another modality's scale) gets
# parts of its own or, for querysets (`ModelChoiceField`) and fields marked
# `dynamic_choices`, none: those are written in full every time, as are fields with errors
# and widgets that are not Django's stock ones. tests/sessions/test_light_fields.py checks
# the parts against the full rendering and crispy, in both languages, empty, filled, invalid.

Render = Callable[[BoundField], str]

_PARTS: dict[tuple[Any, ...], Render | None] = {}
_PARTS_LIMIT = 4096  # distinct field set-ups kept; the note page has about 100


_TEXTS: dict[tuple[str, int], tuple[Any, str]] = {}
_TEXTS_LIMIT = 8192


def _text(value: Any, language: str) -> str:
    """str(value); for a lazy translation (labels, choice labels, help texts: a few hundred a
    page) its text in `language`, worked out once per process. Kept under the lazy object's id
    with the object itself, which the entry keeps alive: while the entry exists no other object
    can have that id. A lazy label's text depends on the language only."""
    if not isinstance(value, Promise):
        return str(value)
    key = (language, id(value))
    hit = _TEXTS.get(key)
    if hit is None:
        if len(_TEXTS) >= _TEXTS_LIMIT:
            _TEXTS.clear()
        hit = _TEXTS[key] = (value, str(value))
    return hit[1]


def _text_key(value: Any, language: str) -> Any:
    """What `value` prints as, and whether it is marked safe (printed unescaped)."""
    text = _text(value, language)
    return text if type(text) is str else (type(text), text)


def _choice_key(value: Any, label: Any, language: str) -> tuple[Any, ...]:
    if isinstance(label, list | tuple):
        return (
            _text_key(value, language),
            tuple(_choice_key(v, lab, language) for v, lab in label),
        )
    return (_text_key(value, language), _text_key(label, language))


def _attr_key(name: str, value: Any, language: str) -> tuple[Any, ...]:
    text = _text_key(value, language) if isinstance(value, Promise) else value
    return (name, text, type(value))


def _static_key(field: BoundField, kind: str) -> tuple[Any, ...] | None:
    """Everything but the value that the markup of `field` depends on (None: not cacheable)."""
    widget = field.field.widget
    if type(widget).__module__ != "django.forms.widgets":
        return None
    if field.field.localize:
        widget.is_localized = True  # as BoundField.as_widget() does, before the key sees it
    language = get_language()
    choices: Any = None
    if isinstance(widget, forms.widgets.ChoiceWidget):
        if type(widget.choices) is not list or getattr(field.field, "dynamic_choices", False):
            return None
        choices = tuple(
            _choice_key("" if value is None else value, label, language)
            for value, label in widget.choices
        )
    try:
        key = (
            kind,
            language,
            type(widget),
            widget.template_name,
            getattr(widget, "input_type", None),
            widget.use_fieldset,
            widget.is_localized,
            field.field.localize,
            field.html_name,
            field.auto_id,
            # Printed as their text: bool() of a lazy label would translate it each time.
            _text_key(field.label, language) if field.label is not None else "",
            _text_key(field.help_text, language) if field.help_text is not None else "",
            field.field.required,
            field.field.disabled,
            field.form.use_required_attribute,
            _css_classes(field),
            tuple(_attr_key(name, value, language) for name, value in widget.attrs.items()),
            choices,
        )
        hash(key)
    except TypeError:  # an unhashable attribute value: write the field in full
        return None
    return key


def _cached_parts(field: BoundField, kind: str) -> Render | None:
    """The render function of `field`'s static parts (`kind` "field": light_field's markup;
    "widget": the bare widget), built on first use; None when it cannot be cached."""
    key = _static_key(field, kind)
    if key is None:
        return None
    try:
        return _PARTS[key]
    except KeyError:
        pass
    widget_parts = _widget_parts(field)
    parts: Render | None = widget_parts
    if widget_parts is not None and kind == "field":
        head, tail = _frame(field)
        parts = _framed(head, widget_parts, tail)
    if len(_PARTS) >= _PARTS_LIMIT:
        _PARTS.clear()
    _PARTS[key] = parts
    return parts


def _framed(head: str, widget_parts: Render, tail: str) -> Render:
    def render(field: BoundField) -> str:
        return f"{head}{widget_parts(field)}{tail}"

    return render


def _widget_parts(field: BoundField) -> Render | None:
    """`_widget(field)` (or for a radio or checkbox list `_choices(field)`) as static parts."""
    widget = field.field.widget
    if _is_radio_like(widget):
        return _choices_parts(field)
    attrs = field.build_widget_attrs({}, widget)
    if field.auto_id and "id" not in widget.attrs:
        attrs.setdefault("id", field.auto_id)
    flat = _attrs(widget.build_attrs(widget.attrs, attrs))
    name = _e(field.html_name)
    if widget.template_name in _INPUT_TEMPLATES:
        return _input_parts(field, attrs, flat)
    if widget.template_name == _TEXTAREA:
        head = f'<textarea name="{name}"{flat}>\n'

        def textarea(bound: BoundField) -> str:
            value = bound.field.widget.format_value(bound.value())
            return f"{head}{_e(value) if value else ''}</textarea>"

        return textarea
    if widget.option_template_name != _OPTION:
        return None
    items: list[Any] = [f'<select name="{name}"{flat}>']
    for group_name, options in _option_groups(widget):
        if group_name:
            items.append(f'\n  <optgroup label="{_e(group_name)}">')
        for option in options:
            items.append(_both_states(field, option, attrs, _select_option))
        if group_name:
            items.append("\n  </optgroup>")
    items.append("\n</select>")
    return _options_render(items)


def _input_parts(field: BoundField, attrs: dict[str, Any], flat: str) -> Render | None:
    widget = field.field.widget
    head = f'<input type="{_e(widget.input_type)}" name="{_e(field.html_name)}"'
    tail = f"{flat}>"
    tail_checked = tail
    checkbox = isinstance(widget, forms.CheckboxInput)
    if checkbox:
        if "checked" in widget.attrs or "checked" in attrs:
            return None
        tail_checked = f"{_attrs(widget.build_attrs(widget.attrs, {**attrs, 'checked': True}))}>"

    def render(bound: BoundField) -> str:
        bound_widget = bound.field.widget
        value = bound.value()
        shown = bound_widget.format_value(value)
        value_attr = "" if shown is None else f' value="{_e(str(shown))}"'
        checked = checkbox and bound_widget.check_test(value)
        return f"{head}{value_attr}{tail_checked if checked else tail}"

    return render


def _choices_parts(field: BoundField) -> Render:
    """`_choices(field)` without errors, as static parts."""
    widget = field.field.widget
    id_ = widget.attrs.get("id") or field.auto_id
    attrs = field.build_widget_attrs({"id": id_} if id_ else {})
    items: list[Any] = ["<div>"]
    for group_name, options in _option_groups(widget):
        if group_name:
            items.append(f"<strong>{_e(group_name)}</strong>")
        for option in options:
            items.append(
                _both_states(
                    field, option, attrs, lambda made: _check_option(field, made, "") + "</div>"
                )
            )
    items.append("</div>")
    items.append(_help_text(field))
    return _options_render(items)


def _both_states(
    field: BoundField,
    option: tuple[Any, Any, int, int | None],
    attrs: dict[str, Any],
    write: Callable[[dict[str, Any]], str],
) -> tuple[str, str, str]:
    """One option's parts: its value, and its markup unselected and selected."""
    value, label, index, subindex = option
    widget: Any = field.field.widget
    unselected, selected = (
        write(widget.create_option(field.html_name, value, label, chosen, index, subindex, attrs))
        for chosen in (False, True)
    )
    return str(value), unselected, selected


def _option_groups(widget: Any) -> list[tuple[Any, list[tuple[Any, Any, int, int | None]]]]:
    """ChoiceWidget.optgroups' walk through the choices: (group name, [(value, label, index,
    subindex)])."""
    groups = []
    for index, (option_value, option_label) in enumerate(widget.choices):
        if option_value is None:
            option_value = ""
        if isinstance(option_label, list | tuple):
            group_name, subindex, choices = option_value, 0, option_label
        else:
            group_name, subindex, choices = None, None, [(option_value, option_label)]
        options = []
        for subvalue, sublabel in choices:
            options.append((subvalue, sublabel, index, subindex))
            if subindex is not None:
                subindex += 1
        groups.append((group_name, options))
    return groups


def _options_render(items: list[Any]) -> Render:
    """Static strings, and (value, markup, markup selected) for each option, chosen as
    ChoiceWidget.optgroups chooses: the first option whose value is among the field's values
    (every such option where several may be selected)."""

    def render(bound: BoundField) -> str:
        widget = bound.field.widget
        values = widget.format_value(bound.value())
        multiple = widget.allow_multiple_selected
        has_selected = False
        out = []
        for item in items:
            if type(item) is str:
                out.append(item)
                continue
            selected = (not has_selected or multiple) and item[0] in values
            has_selected |= selected
            out.append(item[2] if selected else item[1])
        return "".join(out)

    return render


@register.filter
def light_field(field: BoundField) -> SafeString:
    """`{{ form.field|light_field }}`: the markup of `|as_crispy_field`, cheaper."""
    if not isinstance(field, BoundField) or not _supported(field):
        return mark_safe(as_crispy_field(field))  # noqa: S308 — crispy's own output
    return mark_safe(_field(field))  # noqa: S308 — every value escaped above


@register.filter
def light_widget(field: BoundField) -> SafeString:
    """`{{ form.field|light_widget }}`: exactly `{{ form.field }}` (the bare widget), cheaper."""
    if (
        not isinstance(field, BoundField)
        or not _supported(field)
        or _is_radio_like(field.field.widget)
    ):
        return mark_safe(str(field))  # noqa: S308 — Django's own output
    if field.field.widget.is_hidden:
        return mark_safe(str(field))  # noqa: S308 — Django's own output
    parts = None if _has_errors(field) else _cached_parts(field, "widget")
    return mark_safe(parts(field) if parts else _widget(field))  # noqa: S308 — escaped above


_OPTION_TAG_TEMPLATES = frozenset(
    f"django/forms/widgets/{name}_option.html" for name in ("radio", "checkbox", "input")
)


@register.filter
def light_tag(radio: Any) -> SafeString:
    """`{{ radio|light_tag }}`: exactly `{{ radio.tag }}` for one option of a radio or checkbox
    list (a BoundWidget), Django's option templates (radio_option.html, input_option.html,
    input.html, attrs.html: four renderings an option) written in Python."""
    if not isinstance(radio, BoundWidget):
        return radio.tag()
    data = radio.data
    if data.get("template_name") not in _OPTION_TAG_TEMPLATES:
        return radio.tag()
    value = data["value"]
    value_attr = "" if value is None else f' value="{_e(str(value))}"'
    return mark_safe(  # noqa: S308 — every value escaped
        f'<input type="{_e(data["type"])}" name="{_e(data["name"])}"{value_attr}'
        f"{_attrs(data['attrs'])}>"
    )


@register.filter
def light_form(form: forms.BaseForm) -> SafeString:
    """`{{ form|light_form }}`: the markup of `|crispy` for a plain form (non-field errors
    first, then every field), cheaper."""
    bound = [form[name] for name in form.fields]
    if getattr(form, "helper", None) is not None or not all(_supported(f) for f in bound):
        return mark_safe(as_crispy_form(form))  # noqa: S308 — crispy's own output
    out = []
    if form.non_field_errors():
        items = "\n".join(f"\t<li>{_e(error)}</li>" for error in form.non_field_errors())
        out.append(
            f'<div class="alert alert-block alert-danger"><ul class="m-0">{items}</ul></div>'
        )
    out.extend(_field(f) for f in bound)
    return mark_safe("".join(out))  # noqa: S308 — every value escaped above
