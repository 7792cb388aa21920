from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy

from sessions.models.clients import ResourceCategory


class ResourceForm(forms.Form):
    category = forms.ChoiceField(
        choices=[("", "—"), *ResourceCategory.choices],
        label=gettext_lazy("Category"),
        widget=forms.Select(attrs={"class": "form-select"}),
    )
    name = forms.CharField(
        max_length=200,
        label=gettext_lazy("Name"),
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
    contact = forms.CharField(
        max_length=300,
        label=gettext_lazy("Contact"),
        help_text=gettext_lazy("Phone, address or web address: how the client reaches it."),
        widget=forms.TextInput(attrs={"class": "form-control"}),
    )
