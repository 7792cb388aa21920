"""Forms of supervision: the review queue's filters and a return's comments."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crisisnotes.validators import LONG_TEXT, CleanTextFormMixin
from sessions import registry
from sessions.models.notes import RiskLevel

RISK_FILTER_CHOICES = [
    ("", gettext_lazy("Any risk")),
    ("imminent", gettext_lazy("Imminent")),
    *[(value, label) for value, label in reversed(RiskLevel.choices)],
    ("unassessed", gettext_lazy("Not assessed")),
]


def section_choices() -> list[tuple[str, str]]:
    return [("", _("Whole note")), *[(s.key, str(s.title)) for s in registry.sections()]]


class QueueFilterForm(CleanTextFormMixin, forms.Form):
    counselor = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    risk = forms.ChoiceField(required=False, choices=RISK_FILTER_CHOICES)

    def __init__(self, *args: Any, members: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["counselor"].choices = [  # type: ignore[attr-defined]
            ("", _("Every counselor")),
            *[(m.pk, m.display_name) for m in members],
        ]


class ReturnCommentForm(CleanTextFormMixin, forms.Form):
    section = forms.ChoiceField(required=False, label=gettext_lazy("About"))
    text = forms.CharField(
        required=False,
        label=gettext_lazy("Comment"),
        max_length=LONG_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["section"].choices = section_choices()  # type: ignore[attr-defined]


class ReturnCommentFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        if not self.comments():
            raise forms.ValidationError(
                _("Write at least one comment so the author knows what to change.")
            )

    def comments(self) -> list[tuple[str, str]]:
        return [
            (form.cleaned_data.get("section", ""), form.cleaned_data["text"].strip())
            for form in self.forms
            if form.cleaned_data.get("text", "").strip()
        ]


ReturnFormSet = forms.formset_factory(
    ReturnCommentForm, formset=ReturnCommentFormSet, extra=3, max_num=20, validate_max=True
)
