"""crisisnotes.validators: the control-character rule, the length limits (form, model, database)
and the date rules, each accepted at the edge and refused past it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django import forms
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from crisisnotes.validators import (
    CLOCK_SKEW,
    LONG_TEXT,
    CleanTextFormMixin,
    LimitedTextField,
    SafeCharField,
    SafeJSONField,
    validate_no_control_characters,
    validate_not_future_date,
    validate_not_future_time,
)
from sessions.models import ExplorationStage, QuickNote, RapportStage
from tests.factories import NoteFactory


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("a\x00b", "NUL"),
        ("\x01", "U+0001"),
        ("bell\x07", "U+0007"),
        ("esc\x1b[31m", "U+001B"),
        ("\x0b vertical tab", "U+000B"),
        ("form\x0cfeed", "U+000C"),
        ("del\x7f", "U+007F"),
        ("next line\x85", "U+0085"),
        ("\x9f", "U+009F"),
    ],
)
def test_control_characters_are_refused_with_their_name(text, named):
    with pytest.raises(ValidationError) as refused:
        validate_no_control_characters(text)
    message = refused.value.messages[0]
    assert named in message and "control character" in message


@pytest.mark.parametrize(
    "text",
    ["", "tab\tnewline\ncarriage\r\n", "Zoë — “quoted” ✓ 🙂 ß 日本語", "a" * LONG_TEXT, "\u00a0"],
)
def test_ordinary_text_passes(text):
    validate_no_control_characters(text)


@pytest.mark.parametrize(
    "value",
    [
        [{"name": "Shelter\x00", "contact": "555"}],
        {"step": ["fine", "not\x1bfine"]},
        {"key\x07": "value"},
        [["deep", ["deeper\x01"]]],
    ],
)
def test_json_values_are_checked_at_any_depth_keys_included(value):
    with pytest.raises(ValidationError):
        validate_no_control_characters(value)


def test_json_without_control_characters_passes():
    validate_no_control_characters([{"to": "Harbour Clinic", "made": True, "n": 3, "x": None}])


def test_model_fields_carry_the_rule_and_the_limit():
    field = ExplorationStage._meta.get_field("precipitating_event")
    assert isinstance(field, LimitedTextField) and field.max_length == LONG_TEXT
    field.clean("x" * LONG_TEXT, None)
    with pytest.raises(ValidationError, match=f"at most {LONG_TEXT} characters"):
        field.clean("x" * (LONG_TEXT + 1), None)
    with pytest.raises(ValidationError, match="control character"):
        field.clean("ok\x00", None)
    assert isinstance(ExplorationStage._meta.get_field("suds_not_obtained_reason"), SafeCharField)
    json_field = RapportStage._meta.get_field("resources_given")
    assert isinstance(json_field, SafeJSONField)
    with pytest.raises(ValidationError, match="control character"):
        json_field.clean([{"name": "a\x1b"}], None)


@pytest.mark.django_db
def test_the_database_refuses_text_over_the_limit_whatever_writes_it(counselor):
    """A TextField's max_length alone binds only forms: the CHECK binds bulk updates too."""
    note = NoteFactory.create(author=counselor)
    rows = ExplorationStage.objects.filter(session=note)
    rows.update(precipitating_event="y" * LONG_TEXT)
    assert len(rows.get().precipitating_event) == LONG_TEXT
    with pytest.raises(IntegrityError), transaction.atomic():
        rows.update(precipitating_event="y" * (LONG_TEXT + 1))
    assert len(rows.get().precipitating_event) == LONG_TEXT
    limit = QuickNote._meta.get_field("text").max_length
    assert limit is not None
    QuickNote.objects.create(session=note, text="q" * limit)
    with pytest.raises(IntegrityError), transaction.atomic():
        QuickNote.objects.create(session=note, text="q" * (limit + 1))


class _Plain(CleanTextFormMixin, forms.Form):
    free = forms.CharField(required=False)
    short = forms.CharField(required=False, max_length=10)
    email = forms.EmailField(required=False)
    choice = forms.ChoiceField(choices=[("a", "A")], required=False)


def test_form_mixin_bounds_and_cleans_every_text_field():
    assert _Plain({"free": "f" * LONG_TEXT, "short": "s" * 10}).is_valid()
    too_long = _Plain({"free": "f" * (LONG_TEXT + 1)})
    assert not too_long.is_valid()
    assert f"at most {LONG_TEXT} characters" in too_long.errors["free"][0]
    for name in ("free", "short"):
        form = _Plain({name: "bad\x1b"})
        assert not form.is_valid()
        assert "control character (U+001B)" in form.errors[name][0]
    assert not _Plain({"email": "a\x07@example.invalid"}).is_valid()


def test_times_in_the_future_beyond_the_clock_skew_are_refused():
    now = timezone.now()
    validate_not_future_time(now, "The start time")
    validate_not_future_time(now + CLOCK_SKEW - timedelta(seconds=5), "The start time")
    with pytest.raises(ValidationError, match="The start time cannot be in the future"):
        validate_not_future_time(now + CLOCK_SKEW + timedelta(minutes=1), "The start time")


def test_a_birth_date_after_today_is_refused():
    today = timezone.localdate()
    validate_not_future_date(today)
    with pytest.raises(ValidationError, match="date of birth cannot be in the future"):
        validate_not_future_date(today + timedelta(days=1))


@pytest.mark.django_db
def test_every_limited_text_column_has_exactly_one_length_check_in_postgresql():
    from django.apps import apps
    from django.db import connection

    missing = []
    with connection.cursor() as cursor:
        for model in apps.get_models():
            fields = [f for f in model._meta.concrete_fields if isinstance(f, LimitedTextField)]
            if not fields:
                continue
            constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
            for field in fields:
                checks = [
                    name
                    for name, c in constraints.items()
                    if c["check"] and c["columns"] == [field.column] and name.endswith("_len")
                ]
                if checks != [f"{model.__name__.lower()}_{field.name}_len"]:
                    missing.append((model.__name__, field.name, checks))
    assert not missing


SQLITE_SCRIPT = """
from django.db import connection
with connection.cursor() as cursor:
    for table in ("crisis_sessions_quicknote", "safety_riskformulation"):
        cursor.execute("SELECT sql FROM sqlite_master WHERE name = %s", [table])
        sql = cursor.fetchone()[0]
        print(sql.count('CHECK (LENGTH("text")'), sql.count('CHECK (LENGTH("intent")'))
"""


def test_sqlite_keeps_one_length_check_per_column_after_table_rebuilds(migrated_sqlite_var):
    """SQLite rebuilds a table to add a constraint (through a model named "New<Model>"): the
    field must not add its CHECK a second time under that name."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "DJANGO_ENV"}}
    env["CRISISNOTES_VAR_DIR"] = str(migrated_sqlite_var)
    run = [sys.executable, "manage.py"]
    result = subprocess.run(
        [*run, "shell", "-v0", "-c", SQLITE_SCRIPT],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    # quicknote: one check on text; riskformulation: one on intent.
    assert result.stdout.split() == ["1", "0", "0", "1"]


@pytest.mark.django_db
def test_a_0_to_10_scale_is_checked_in_python_and_by_the_database(
    counselor, django_assert_num_queries
):
    """Model validation refuses 11 without asking the database (it used to run a SAVEPOINT and
    a SELECT per constraint per save); the CHECK still refuses it from any other writer."""
    note = NoteFactory.create(author=counselor)
    row = ExplorationStage.objects.get(session=note)
    for value in (None, 0, 10):
        row.suds_start = value
        with django_assert_num_queries(0):
            row.validate_constraints()
    row.suds_start = 11
    with django_assert_num_queries(0), pytest.raises(ValidationError, match="suds_start_0_10"):
        row.validate_constraints()
    with django_assert_num_queries(0):
        row.validate_constraints(exclude={"suds_start"})
    with pytest.raises(IntegrityError), transaction.atomic():
        ExplorationStage.objects.filter(pk=row.pk).update(suds_start=11)
