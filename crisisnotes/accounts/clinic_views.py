"""The clinic admin's settings page: policies, time zone, crisis line (changes audited)."""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext

from crisisnotes.accounts.clinic_forms import ClinicSettingsForm
from crisisnotes.accounts.clinic_services import ClinicSettingsError, clinic_settings_update
from crisisnotes.accounts.models import Role
from crisisnotes.accounts.permissions import role_required
from crisisnotes.accounts.selectors import clinic_get_for_admin
from crisisnotes.http import AuthedRequest


@role_required(Role.CLINIC_ADMIN)
def clinic_settings_view(request: AuthedRequest) -> HttpResponse:
    user = request.user
    # A fresh copy: form validation writes into its instance, and a refused change must leave
    # nothing half-applied on the clinic the rest of the request uses.
    form = ClinicSettingsForm(request.POST or None, instance=clinic_get_for_admin(user=user))
    if request.method == "POST" and form.is_valid():
        try:
            lines = clinic_settings_update(
                actor=user,
                clinic=clinic_get_for_admin(user=user),
                changes=form.changes(),
                request=request,
            )
        except ClinicSettingsError as error:
            form.add_error(None, str(error))
        else:
            if lines:
                messages.success(
                    request, gettext("Saved: %(changes)s.") % {"changes": "; ".join(lines)}
                )
            else:
                messages.info(request, gettext("Nothing changed."))
            return redirect("accounts:clinic_settings")
    return render(request, "accounts/clinic_settings.html", {"form": form})


RULES_DOC = Path(settings.BASE_DIR) / "docs" / "clinical-rules.md"


def clinical_rules_view(request: AuthedRequest) -> HttpResponse:
    """docs/clinical-rules.md, the sign and risk rules as the code implements them, shown in the
    app (the clinic's LAN may have no route to the repository)."""
    return render(
        request, "accounts/clinical_rules.html", {"text": RULES_DOC.read_text(encoding="utf-8")}
    )
