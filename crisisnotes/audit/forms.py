from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.apps import apps
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from crisisnotes.accounts.models import User
from crisisnotes.audit.models import Action
from crisisnotes.audit.selectors import AuditFilters
from crisisnotes.forms import day_field, period_check_order, short_choice_list

# The apps whose records the log names; Django's own (sessions, content types) never appear.
RECORD_APPS = ("accounts", "audit", "crisis_sessions", "safety", "notifications")


def record_type_choices() -> list[tuple[str, str]]:
    """Every kind of record the log can name, in words, sorted by those words."""
    choices = [
        (model._meta.label_lower, str(model._meta.verbose_name).capitalize())
        for model in apps.get_models()
        if model._meta.app_label in RECORD_APPS
    ]
    return sorted(choices, key=lambda choice: choice[1])


class AuditFilterForm(forms.Form):
    """The audit log's filters (GET). An invalid value is reported on the page and the log is
    not filtered by it silently: the view shows nothing until the filter is corrected."""

    client = forms.CharField(
        required=False,
        max_length=200,
        label=_("Client"),
        help_text=_("Alias or record number."),
    )
    actor = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, label=_("User"), empty_label=_("Everyone")
    )
    action = forms.ChoiceField(
        choices=[("", "All actions"), *Action.choices], required=False, label=_("Action")
    )
    record_type = forms.ChoiceField(required=False, label=_("Record type"))
    record_id = forms.CharField(required=False, max_length=64, label=_("Record number"))
    date_from = day_field(_("From"))
    date_to = day_field(_("To"))

    def __init__(
        self,
        *args: object,
        actors: QuerySet[User],
        find_clients: Callable[[str], list[tuple[int, str]]],
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.find_clients = find_clients
        self.fields["actor"].queryset = actors  # type: ignore[attr-defined]
        self.fields["actor"].label_from_instance = (  # type: ignore[attr-defined]
            lambda user: f"{user.display_name} ({user.username})"
        )
        # The clinic's staff (tens of people): one SELECT, not a server-side cursor.
        short_choice_list(self.fields["actor"])
        self.fields["record_type"].choices = [  # type: ignore[attr-defined]
            ("", _("Any record")),
            *record_type_choices(),
        ]
        for field in self.fields.values():
            select = isinstance(field.widget, forms.Select)
            field.widget.attrs.setdefault("class", "form-select" if select else "form-control")

    @property
    def staff(self) -> QuerySet[User]:
        """The clinic's users the user filter lists, read once a request however many read it
        (ShortListChoiceIterator keeps them on this queryset)."""
        return self.fields["actor"].queryset  # type: ignore[attr-defined]

    def clean_client(self) -> int | None:
        """An alias (exact, else the only partial match) or a record number → the client's id."""
        text = (self.cleaned_data.get("client") or "").strip()
        if not text:
            return None
        matches = self.find_clients(text)
        if not matches:
            raise forms.ValidationError(
                _("No client of this clinic matches “%(text)s”."), params={"text": text}
            )
        if len(matches) > 1:
            names = ", ".join(f"{alias} (#{pk})" for pk, alias in matches[:5])
            raise forms.ValidationError(
                _("Several clients match: %(names)s. Give the number."), params={"names": names}
            )
        return matches[0][0]

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        period_check_order(data)
        if data.get("record_id") and not data.get("record_type"):
            self.add_error("record_type", _("Say which kind of record the number belongs to."))
        return data

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        actor = data.get("actor")
        return AuditFilters(
            client_id=data.get("client"),
            object_type=data.get("record_type") or "",
            object_id=(data.get("record_id") or "").strip(),
            actor_id=actor.pk if actor else None,
            action=data.get("action") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
