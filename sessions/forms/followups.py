"""Forms of follow-up tasks: add a task to a note, log an attempt, close with an outcome."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy

from crisisnotes.accounts.models import User
from crisisnotes.forms import short_choice_list
from crisisnotes.validators import CleanTextFormMixin
from sessions.models.followups import FollowUpMethod, FollowUpOutcome


class FollowUpTaskForm(CleanTextFormMixin, forms.Form):
    due_at = forms.DateTimeField(
        label=gettext_lazy("Due"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    method = forms.ChoiceField(
        choices=FollowUpMethod.choices, initial=FollowUpMethod.CALL, label=gettext_lazy("Method")
    )
    assigned_to = forms.ModelChoiceField(
        queryset=User.objects.none(), label=gettext_lazy("Assigned to")
    )
    purpose = forms.CharField(max_length=300, required=False, label=gettext_lazy("Purpose"))

    def __init__(self, *args: Any, counselors: QuerySet[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assigned_to"]
        assert isinstance(field, forms.ModelChoiceField)
        field.label_from_instance = lambda u: u.display_name  # type: ignore[assignment]
        short_choice_list(field, counselors)
        _bootstrap(self)


def _bootstrap(form: forms.Form) -> None:
    for field in form.fields.values():
        css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
        field.widget.attrs.setdefault("class", f"{css} {css}-sm")


class FollowUpAttemptForm(CleanTextFormMixin, forms.Form):
    method = forms.ChoiceField(choices=FollowUpMethod.choices, label=gettext_lazy("Method"))
    outcome = forms.ChoiceField(
        choices=FollowUpOutcome.choices,
        label=gettext_lazy("Outcome"),
        help_text=gettext_lazy(
            "“No answer” keeps the follow-up open; any other outcome closes it."
        ),
    )
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label=gettext_lazy("Notes")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _bootstrap(self)


class FollowUpCloseForm(CleanTextFormMixin, forms.Form):
    outcome = forms.ChoiceField(
        choices=FollowUpOutcome.choices, label=gettext_lazy("Final outcome")
    )
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label=gettext_lazy("Notes")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _bootstrap(self)
