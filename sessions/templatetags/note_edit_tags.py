"""Pieces of the draft note page written in Python rather than as template loops."""

from __future__ import annotations

from typing import Any

from django import forms, template
from django.utils.safestring import SafeString, mark_safe

from crisisnotes.html import autoescaped
from sessions.forms.notes import CONTACT_TYPE_KEYS, NoteHeaderForm

register = template.Library()

_KEYS: dict[str, str] = {str(kind): key for kind, key in CONTACT_TYPE_KEYS.items()}

_RADIO = (
    '\n    <input class="btn-check" type="radio" name="{name}" value="{value}" id="{id}" '
    'data-key="{key}"{checked} aria-keyshortcuts="{key}">'
    '\n    <label class="btn btn-sm btn-outline-primary" for="{id}">{label} '
    '<kbd class="small">{key}</kbd></label>\n    '
)


@register.filter
def contact_type_radios(header: NoteHeaderForm) -> SafeString:
    """The contact type's radios (templates/sessions/partials/contact_type_edit.html), each
    with its one-key shortcut: the markup of the loop over `header.contact_type_radios` they
    replace (tests/sessions/test_views_notes.py renders both and compares), without Django's
    option objects (a widget context, attributes and a bound widget per radio) and ~15 nodes
    per radio. As RadioSelect does: each radio's id is the field's with the option's index,
    and the first option whose value is the field's is checked."""
    field = header["contact_type"]
    assert isinstance(field.field, forms.ChoiceField)
    widget = field.field.widget
    assert not widget.allow_multiple_selected
    values = widget.format_value(field.value())
    id_ = widget.attrs.get("id") or field.auto_id
    name = autoescaped(field.html_name)
    out = []
    has_selected = False
    choices: list[tuple[str, Any]] = list(field.field.choices)  # type: ignore[arg-type]
    for index, (value, label) in enumerate(choices):
        text = str(value)
        selected = not has_selected and text in values
        has_selected |= selected
        key = autoescaped(_KEYS[text])
        out.append(
            _RADIO.format(
                name=name,
                value=autoescaped(text),
                id=autoescaped(widget.id_for_label(id_, index) if id_ else None),
                key=key,
                checked=" checked" if selected else "",
                label=autoescaped(label),
            )
        )
    return mark_safe("".join(out))  # noqa: S308 — every value escaped by autoescaped
