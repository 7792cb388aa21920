from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.utils.translation import gettext_lazy as _

from crisisnotes.accounts.models import User
from crisisnotes.accounts.services import user_password_reset_request
from crisisnotes.validators import CleanTextFormMixin


class QueuedPasswordResetForm(CleanTextFormMixin, PasswordResetForm):
    """Queues the reset e-mail in the outbox (sent by a Celery task) so a slow mail server or a
    broker outage never holds or breaks the page; the link is made when the e-mail is sent.

    It also reaches a colleague a clinic admin added without a password (an unusable one until
    they set theirs): this is how they set their first password. Django's own form skips
    accounts with an unusable password (it reserves them for outside sign-in); here the only
    such accounts are new ones waiting for their first password."""

    def get_users(self, email: str) -> Iterator[User]:
        # Compared as Django's form does (Unicode TR 36, NFKC then casefold), so an address that
        # only the database's iexact folds together never matches.
        wanted = unicodedata.normalize("NFKC", email).casefold()
        return (
            user
            for user in User.objects.filter(email__iexact=email, is_active=True)
            if unicodedata.normalize("NFKC", user.email).casefold() == wanted
        )

    def save(self, *args: Any, **kwargs: Any) -> None:
        request = kwargs.get("request")
        domain = kwargs.get("domain_override") or (
            request.get_host() if request is not None else "localhost"
        )
        use_https = bool(kwargs.get("use_https", False))
        for user in self.get_users(self.cleaned_data["email"]):
            user_password_reset_request(user=user, domain=domain, use_https=use_https)


class UserForm(CleanTextFormMixin, forms.ModelForm):
    """A clinic admin's form for a colleague's profile, roles and team."""

    class Meta:
        model = User
        fields = [
            "username",
            "full_name",
            "email",
            "credential",
            "licence_number",
            "team",
            "is_trainee",
            "is_counselor",
            "is_supervisor",
            "is_clinic_admin",
        ]
        labels = {
            "is_counselor": _("Counselor"),
            "is_supervisor": _("Supervisor"),
            "is_clinic_admin": _("Clinic admin"),
            "is_trainee": _("Trainee (notes need a supervisor's co-signature)"),
            "licence_number": _("Licence number"),
        }

    def __init__(self, *args: Any, teams: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]
        self.fields["full_name"].required = True
        if self.instance.pk:
            # The login name is the person's identity in the audit log: it never changes.
            self.fields["username"].disabled = True
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", "Save"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if not any(cleaned.get(f) for f in ("is_counselor", "is_supervisor", "is_clinic_admin")):
            raise forms.ValidationError(_("Give the user at least one role."))
        return cleaned

    def profile_changes(self) -> dict[str, Any]:
        return {f: self.cleaned_data[f] for f in self.Meta.fields if f != "username"}


class LanguageForm(CleanTextFormMixin, forms.ModelForm):
    """A user's own interface language (the "Language" page linked from the navigation bar)."""

    class Meta:
        model = User
        fields = ["language"]
        labels = {"language": _("Interface language")}
        help_texts = {
            "language": _(
                "The language of every page you see. Client copies of safety plans are always "
                "in the client's language."
            )
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["language"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("The browser's language")), *settings.LANGUAGES]
        field.widget.attrs["class"] = "form-select"
