"""What free text may contain, in one place: the length limits, the control-character rule and
the date rules, with the model fields and the form mixin that apply them everywhere.

Bad input gets a clear message and saves nothing (docs/input-limits.md):

- **Length.** Every free-text column has a maximum length. `LimitedTextField` enforces it three
  times: the form (Django's `max_length` on the form field, with the count in the message), the
  model's validation (`full_clean`, which ModelForms run), and a database CHECK, because a
  TextField's `max_length` is otherwise only a form attribute. (The model validation is the
  field's validator; the CHECK is not asked again from Python, see LengthCheckConstraint.)
  CharFields already have all three (their VARCHAR length).
- **Control characters.** NUL and the other C0/C1 control characters (everything below U+0020
  and U+007F–U+009F, except tab, line feed and carriage return) are refused with a message naming
  the character, in every text field and in every string inside a JSON field. PostgreSQL cannot
  store NUL at all (it would be a 500); the others would print as nothing, or as boxes, in the
  signed record. `validate_no_control_characters` is the one validator: the model fields below
  carry it, and `CleanTextFormMixin` adds it to every text field of a form that is not a
  ModelForm field.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, ProhibitNullCharactersValidator
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import LessThanOrEqual
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# --- limits (characters) -------------------------------------------------------------------

# A stage's narrative field, a safety-formulation paragraph, an addendum, a review comment, a
# disclosure's description: about four printed pages each — far beyond what a call produces,
# and small enough that a note with every field at its limit still opens at once.
LONG_TEXT = 10_000
# A line typed during the call, beside the stages.
QUICK_NOTE = 2_000

# A safety-plan contact (steps 3–5), stored inside the plan's JSON.
CONTACT_NAME_MAX = 200
CONTACT_PHONE_MAX = 40

# How far ahead of the server's clock a typed time may be (a counselor's clock, or rounding up
# to the next minute): beyond it "the session started in the future" is refused.
CLOCK_SKEW = timedelta(minutes=5)

# --- control characters --------------------------------------------------------------------

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _describe(char: str) -> str:
    return "NUL" if char == "\x00" else f"U+{ord(char):04X}"


def validate_no_control_characters(value: Any) -> None:
    """Refuse a string, or any string (key or value) inside a JSON value, that contains a
    control character other than tab, line feed and carriage return."""
    found = _first_control(value)
    if found is not None:
        raise ValidationError(
            _(
                "This text contains an invisible control character (%(char)s), which cannot be "
                "stored in the record. Remove it (it often comes with text pasted from another "
                "program) and save again."
            ),
            code="control_character",
            params={"char": _describe(found)},
        )


def _first_control(value: Any) -> str | None:
    if isinstance(value, str):
        match = _CONTROL.search(value)
        return match.group(0) if match else None
    if isinstance(value, dict):
        for key, item in value.items():
            found = _first_control(key) or _first_control(item)
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for item in value:
            found = _first_control(item)
            if found:
                return found
    return None


# --- model fields ---------------------------------------------------------------------------


class LengthCheckConstraint(models.CheckConstraint):
    """The database CHECK of a LimitedTextField's length. Model validation does not ask the
    database again: the field's own MaxLengthValidator has already checked the same value in
    `full_clean` (and a field left out of the validation is left out of both). Django would
    otherwise run `SAVEPOINT; SELECT 1 WHERE length(...) <= n; RELEASE` per field per form:
    about 90 of the autosave's queries. The CHECK itself stays in the database."""

    def validate(self, model: Any, instance: Any, exclude: Any = None, using: Any = None) -> None:
        return None


class AtMostCheckConstraint(models.CheckConstraint):
    """CHECK (`field` IS NULL OR `field` <= `limit`) — a 0–10 scale. The database keeps the
    CHECK; model validation evaluates the same rule in Python instead of asking the database,
    which Django does with `SAVEPOINT; SELECT 1 WHERE …; RELEASE` per constraint per save (9 of
    an autosave's queries). Migrations see Django's own CheckConstraint (`deconstruct`)."""

    def __init__(self, *, field: str, limit: int, name: str, **kwargs: Any) -> None:
        self.field = field
        self.limit = limit
        condition = models.Q(**{f"{field}__isnull": True}) | models.Q(**{f"{field}__lte": limit})
        super().__init__(condition=condition, name=name, **kwargs)

    def validate(self, model: Any, instance: Any, exclude: Any = None, using: Any = None) -> None:
        if exclude and self.field in exclude:
            return  # as Django does for a CHECK on a field left out of the validation
        value = getattr(instance, self.field)
        if value is not None and value > self.limit:
            raise ValidationError(
                self.get_violation_error_message(), code=self.violation_error_code
            )

    def deconstruct(self) -> Any:
        _path, args, kwargs = super().deconstruct()
        return "django.db.models.CheckConstraint", args, kwargs

    def clone(self) -> AtMostCheckConstraint:
        _path, args, kwargs = super().deconstruct()
        del kwargs["condition"]
        return self.__class__(*args, field=self.field, limit=self.limit, **kwargs)


class LimitedTextField(models.TextField):
    """Free text with a maximum length (`max_length`, default LONG_TEXT), enforced by forms,
    model validation and a database CHECK; control characters refused.

    The CHECK is a named constraint the field adds to its model's Meta.constraints
    (`<model>_<field>_len`), so migrations create it like any declared constraint. (A field's
    own `db_check()` would be applied only when a table is created, never when a column is
    altered.)"""

    default_validators = [validate_no_control_characters]

    def __init__(self, *args: Any, max_length: int = LONG_TEXT, **kwargs: Any) -> None:
        kwargs["max_length"] = max_length
        super().__init__(*args, **kwargs)
        self.validators.append(MaxLengthValidator(max_length))

    def contribute_to_class(self, cls: Any, name: str, *args: Any, **kwargs: Any) -> None:
        super().contribute_to_class(cls, name, *args, **kwargs)
        meta = cls._meta
        if meta.abstract:
            return
        check = LengthCheckConstraint(
            condition=LessThanOrEqual(Length(name), self.max_length),
            name=f"{cls.__name__.lower()}_{name}_len",
        )
        # Historical models (migrations) already carry it in their state, and SQLite's table
        # rebuild copies it into a model named "New<Model>": never twice.
        if all(getattr(c, "condition", None) != check.condition for c in meta.constraints):
            meta.constraints = [*meta.constraints, check]
            meta.original_attrs["constraints"] = meta.constraints


class SafeCharField(models.CharField):
    """A CharField (length already enforced everywhere) that refuses control characters."""

    default_validators = [validate_no_control_characters]


class SafeJSONField(models.JSONField):
    """A JSONField whose strings (keys and values, at any depth) refuse control characters."""

    default_validators = [validate_no_control_characters]


# --- forms ------------------------------------------------------------------------------------


class CleanTextFormMixin:
    """Put first in a form's bases: every CharField of the form (typed ones included, e.g.
    e-mail) refuses control characters, and a CharField declared without a maximum gets
    LONG_TEXT, so no free-text input of any form is unbounded or can carry a control character.

    Applied when the form validates, so fields a subclass adds in its own __init__ (the
    follow-up stage's referral rows) are covered too."""

    fields: dict[str, forms.Field]

    def full_clean(self) -> None:
        for field in self.fields.values():
            if isinstance(field, forms.CharField):
                _harden(field)
        super().full_clean()  # type: ignore[misc]


def _harden(field: forms.CharField) -> None:
    if validate_no_control_characters not in field.validators:
        # Ours names NUL like any other control character; Django's own NUL check would
        # answer first with a different message.
        field.validators = [
            v for v in field.validators if not isinstance(v, ProhibitNullCharactersValidator)
        ]
        field.validators.append(validate_no_control_characters)
    if field.max_length is None:
        field.max_length = LONG_TEXT
        field.validators.append(MaxLengthValidator(LONG_TEXT))


# --- dates ------------------------------------------------------------------------------------


def latest_allowed(now: datetime | None = None) -> datetime:
    """The latest time a session may start or end at: now, plus the clock skew."""
    return (now or timezone.now()) + CLOCK_SKEW


def validate_not_future_time(value: datetime | None, what: str) -> None:
    if value is not None and value > latest_allowed():
        raise ValidationError(
            _("%(what)s cannot be in the future (it is %(value)s; now is %(now)s)."),
            code="future",
            params={
                "what": what,
                "value": timezone.localtime(value).strftime("%Y-%m-%d %H:%M"),
                "now": timezone.localtime().strftime("%Y-%m-%d %H:%M"),
            },
        )


def validate_not_future_date(value: date | None) -> None:
    if value is not None and value > timezone.localdate():
        raise ValidationError(
            _("The date of birth cannot be in the future."), code="future_date_of_birth"
        )
