"""The clinic admin's community resource directory: list, add, edit, retire/restore."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crisisnotes.accounts.models import Role
from crisisnotes.accounts.permissions import role_required
from crisisnotes.http import AuthedRequest
from sessions.forms.resources import ResourceForm
from sessions.selectors.resources import resource_list_for_admin
from sessions.services.resources import (
    ResourceError,
    resource_create,
    resource_set_active,
    resource_update,
)


@role_required(Role.CLINIC_ADMIN)
def resource_list_view(request: AuthedRequest) -> HttpResponse:
    user = request.user
    form = ResourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            resource = resource_create(actor=user, request=request, **form.cleaned_data)
        except ResourceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(
                request, _("Added %(name)s to the directory.") % {"name": resource.name}
            )
            return redirect("crisis_sessions:resource_list")
    return render(
        request,
        "sessions/resources.html",
        {"resources": resource_list_for_admin(user=user), "form": form},
    )


@role_required(Role.CLINIC_ADMIN)
def resource_edit_view(request: AuthedRequest, resource_id: int) -> HttpResponse:
    user = request.user
    resource = get_object_or_404(resource_list_for_admin(user=user), pk=resource_id)
    initial = {"category": resource.category, "name": resource.name, "contact": resource.contact}
    form = ResourceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            resource_update(actor=user, resource=resource, request=request, **form.cleaned_data)
        except ResourceError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("Resource saved."))
            return redirect("crisis_sessions:resource_list")
    return render(request, "sessions/resource_form.html", {"resource": resource, "form": form})


@require_POST
@role_required(Role.CLINIC_ADMIN)
def resource_active_view(request: AuthedRequest, resource_id: int) -> HttpResponse:
    user = request.user
    resource = get_object_or_404(resource_list_for_admin(user=user), pk=resource_id)
    active = request.POST.get("active") == "1"
    resource_set_active(actor=user, resource=resource, active=active, request=request)
    if active:
        message = _("%(name)s was restored.")
    else:
        message = _("%(name)s was retired: it is no longer offered on new notes.")
    messages.success(request, message % {"name": resource.name})
    return redirect("crisis_sessions:resource_list")


urlpatterns = [
    path("clinic/resources/", resource_list_view, name="resource_list"),
    path("clinic/resources/<int:resource_id>/", resource_edit_view, name="resource_edit"),
    path(
        "clinic/resources/<int:resource_id>/active/",
        resource_active_view,
        name="resource_active",
    ),
]
