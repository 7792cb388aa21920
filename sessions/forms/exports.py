"""The bulk export filters (clinic admins)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crisisnotes.accounts.models import User
from crisisnotes.forms import day_field
from crisisnotes.validators import CleanTextFormMixin
from sessions.models import Client
from sessions.models.exports import ExportFormat
from sessions.models.notes import RiskLevel


class BulkExportForm(CleanTextFormMixin, forms.Form):
    date_from = day_field(gettext_lazy("Sessions from"))
    date_to = day_field(gettext_lazy("Sessions to"))
    counselor = forms.ModelChoiceField(
        queryset=User.objects.none(),
        required=False,
        label=gettext_lazy("Counselor"),
        empty_label=gettext_lazy("Any counselor"),
    )
    client = forms.ModelChoiceField(
        queryset=Client.objects.none(),
        required=False,
        label=gettext_lazy("Client"),
        empty_label=gettext_lazy("Any client"),
    )
    risk_level = forms.ChoiceField(
        choices=[("", gettext_lazy("Any risk level")), *RiskLevel.choices],
        required=False,
        label=gettext_lazy("Risk level"),
    )
    export_format = forms.ChoiceField(
        label=gettext_lazy("Format"),
        choices=ExportFormat.choices,
        initial=ExportFormat.PDF,
        widget=forms.RadioSelect,
        required=False,  # a form posted without it (older page, script) means PDF
    )

    def __init__(
        self, *args: Any, counselors: QuerySet[User], clients: QuerySet[Client], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        counselor = self.fields["counselor"]
        client = self.fields["client"]
        assert isinstance(counselor, forms.ModelChoiceField)
        assert isinstance(client, forms.ModelChoiceField)
        counselor.queryset = counselors
        counselor.label_from_instance = lambda u: u.display_name  # type: ignore[assignment]
        client.queryset = clients

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end date is before the start date."))
        data["export_format"] = data.get("export_format") or ExportFormat.PDF
        return data
