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

from typing import Any

from crispy_forms.templatetags.crispy_forms_filters import as_crispy_field, as_crispy_form
from django import forms, template
from django.forms.boundfield import BoundField
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

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


def _e(value: Any) -> str:
    """What `{{ value }}` prints under autoescape."""
    return str(conditional_escape(value))


def _attrs(attrs: dict[str, Any]) -> str:
    """django/forms/widgets/attrs.html (and crispy's bootstrap5/layout/attrs.html)."""
    out = []
    for name, value in attrs.items():
        if value is False:
            continue
        out.append(f" {name}" if value is True else f' {name}="{_e(str(value))}"')
    return "".join(out)


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
    return widget.template_name in _INPUT_TEMPLATES | {_TEXTAREA, _SELECT}


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
            out.append(
                f'\n  <option value="{_e(str(option["value"]))}"{_attrs(option["attrs"])}>'
                f"{_e(option['label'])}</option>"
            )
        if group_name:
            out.append("\n  </optgroup>")
    out.append("\n</select>")
    return "".join(out)


def _errors_block(field: BoundField) -> str:
    """bootstrap5/layout/field_errors_block.html."""
    if not field.errors:
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
    invalid = " is-invalid" if field.errors else ""
    out = ["<div>"]
    for group_index, (group, options, _index) in enumerate(groups):
        if group:
            out.append(f"<strong>{_e(group)}</strong>")
        for option_index, option in enumerate(options):
            out.append(
                f'<div class="form-check"><input type="{_e(option["type"])}" '
                f'class="form-check-input{invalid}" name="{_e(field.html_name)}" '
                f'value="{_e(str(option["value"]))}"{_attrs(option["attrs"])}>'
                f'<label for="{_e(option["attrs"].get("id", ""))}" class="form-check-label">'
                f"{_e(str(option['label']))}</label>"
            )
            if option_index == len(options) - 1 and group_index == len(groups) - 1:
                out.append(_errors_block(field))
            out.append("</div>")
    out.append("</div>")
    out.append(_help_text(field))
    return "".join(out)


def _field(field: BoundField) -> str:
    """bootstrap5/field.html with as_crispy_field's context (labels and errors shown, no
    label or field class)."""
    widget = field.field.widget
    if widget.is_hidden:
        return str(field)
    css = f" {field.css_classes()}" if field.css_classes() else ""
    required_class, asterisk = _required_mark(field)
    label = _e(field.label) if field.label else ""
    if isinstance(widget, forms.CheckboxInput):
        _add_class(field, "form-check-input is-invalid" if field.errors else "form-check-input")
        return (
            f'<div class="mb-3"><div id="div_{field.auto_id}" class="form-check{css}">'
            f"{_widget(field)}"
            f'<label for="{_e(field.id_for_label)}" class="form-check-label{required_class}">'
            f"{label}{asterisk}</label>{_errors_block(field)}{_help_text(field)}</div></div>"
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
    if _is_radio_like(widget):
        out.append(_choices(field))
    else:
        base = "form-select" if isinstance(widget, forms.Select) else "form-control"
        _add_class(field, f"{base} is-invalid" if field.errors else base)
        out.append(_widget(field))
        out.append(_errors_block(field))
        out.append(_help_text(field))
    if fieldset:
        out.append("</fieldset>")
    out.append("</div>")
    return "".join(out)


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
    return mark_safe(_widget(field))  # noqa: S308 — every value escaped above


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
