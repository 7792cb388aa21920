"""Client (case record) forms."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crisisnotes.validators import CleanTextFormMixin
from sessions.models import Client
from sessions.models.clients import CLIENT_FIELDS
from sessions.models.notes import Modality


class ClientForm(CleanTextFormMixin, forms.ModelForm):
    class Meta:
        model = Client
        fields = list(CLIENT_FIELDS)
        widgets = {
            "date_of_birth": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "supports_notes": forms.Textarea(attrs={"rows": 3}),
        }
        labels = {
            "alias": gettext_lazy("Alias"),
            "name": gettext_lazy("Name"),
            "pronouns": gettext_lazy("Pronouns"),
            "date_of_birth": gettext_lazy("Date of birth"),
            "age_range": gettext_lazy("Age range"),
            "phone": gettext_lazy("Phone"),
            "location": gettext_lazy("Location"),
            "emergency_contact": gettext_lazy("Emergency contact"),
        }
        help_texts = {
            "alias": gettext_lazy('Required. Anonymous is fine: "Caller, blue jacket".'),
            "phone": gettext_lazy("Any format; search matches the digits."),
        }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        # The client's language (of the client copy of the safety plan): a post without it
        # keeps the client's current one, English for a new client.
        self.fields["language"].required = False

    def clean_language(self) -> str:
        return self.cleaned_data.get("language") or self.instance.language or "en"


class StartSessionForm(CleanTextFormMixin, forms.Form):
    """How the client reached us; the clock starts when the note is created. The client page
    lays the radios out by hand (one inline row), so they carry Bootstrap's class themselves."""

    modality = forms.ChoiceField(
        choices=Modality.choices,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        initial=Modality.PHONE,
        label=gettext_lazy("Modality"),
    )


class ClientCreateForm(ClientForm):
    """New client, optionally starting a session in the same step."""

    start_session = forms.BooleanField(
        required=False, initial=True, label=gettext_lazy("Start a session with this client now")
    )
    modality = forms.ChoiceField(
        choices=Modality.choices,
        widget=forms.RadioSelect,
        initial=Modality.PHONE,
        required=False,
        label=gettext_lazy("Modality"),
    )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("start_session") and not data.get("modality"):
            self.add_error("modality", _("Choose how the client reached us to start the session."))
        return data
