"""The clinic admin's snippet form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from sessions.models import Snippet


class SnippetForm(forms.ModelForm):
    class Meta:
        model = Snippet
        fields = ["shortcut", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 2})}
        labels = {
            "shortcut": gettext_lazy("Shortcut (typed after “;”)"),
            "text": gettext_lazy("Text inserted"),
        }

    def __init__(self, *args: Any, clinic_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clinic_id = clinic_id

    def clean_shortcut(self) -> str:
        shortcut = (self.cleaned_data.get("shortcut") or "").strip().lower()
        taken = Snippet.objects.filter(clinic_id=self.clinic_id, shortcut=shortcut)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(
                _("“;%(shortcut)s” is already a snippet of this clinic.") % {"shortcut": shortcut}
            )
        return shortcut
