"""Views of the safety app: thin (selector → form → one service → render)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import Model
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_POST

from crisisnotes.accounts.models import Role
from crisisnotes.accounts.permissions import role_required
from crisisnotes.audit.models import Action
from crisisnotes.audit.services import audit_record
from crisisnotes.http import AuthedRequest
from safety import selectors, services
from safety.exceptions import SafetyError
from safety.forms import (
    MAX_ENTRIES,
    AcknowledgeForm,
    DisclosureForm,
    DisclosureRecordForm,
    ExportDisclosureForm,
    PeriodForm,
    SafetyPlanForm,
    SupervisorRecordForm,
)
from safety.models import CONTACT_STEPS, SafetyPlanVersion
from sessions.models import Client, CrisisSession
from sessions.models.clients import phone_digits

READERS = (Role.COUNSELOR, Role.SUPERVISOR, Role.CLINIC_ADMIN)


def note_url(note: CrisisSession, anchor: str = "") -> str:
    url = note.get_absolute_url()
    return f"{url}#{anchor}" if anchor else url


def client_url(client: Client) -> str:
    return client.get_absolute_url()


# --- supervisor notified --------------------------------------------------------------------


def record_form(request: AuthedRequest, data: Any = None) -> SupervisorRecordForm:
    return SupervisorRecordForm.for_user(request.user, data)


def _supervisor_panel(request: AuthedRequest, note: CrisisSession, **extra: Any) -> HttpResponse:
    context = {
        "note": note,
        "notifications": list(selectors.supervisor_notification_list(note=note)),
        "record_form": extra.pop("record_form", None) or record_form(request),
        "editable": True,
        **extra,
    }
    return render(request, "safety/partials/supervisor_panel.html", context)


@role_required(Role.COUNSELOR)
def supervisor_list(request: AuthedRequest, note_id: int) -> HttpResponse:
    """The notifications list alone, polled by the note page while a response is awaited."""
    note = selectors.note_get_for_author(user=request.user, note_id=note_id)
    return render(
        request,
        "safety/partials/supervisor_list.html",
        {"note": note, "notifications": list(selectors.supervisor_notification_list(note=note))},
    )


@require_POST
@role_required(Role.COUNSELOR)
def supervisor_notify(request: AuthedRequest, note_id: int) -> HttpResponse:
    note = selectors.note_get_for_author(user=request.user, note_id=note_id)
    error = ""
    try:
        services.supervisor_notify(actor=request.user, note=note, request=request)
    except SafetyError as exc:
        error = str(exc)
    if request.htmx:
        return _supervisor_panel(request, note, error=error)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, gettext("Your supervisor was notified."))
    return redirect(note_url(note, "safety-supervisor"))


@require_POST
@role_required(Role.COUNSELOR)
def supervisor_record(request: AuthedRequest, note_id: int) -> HttpResponse:
    user = request.user
    note = selectors.note_get_for_author(user=user, note_id=note_id)
    form = record_form(request, request.POST)
    if form.is_valid():
        try:
            services.supervisor_notification_record(
                actor=user,
                note=note,
                supervisor=form.cleaned_data["supervisor"],
                method=form.cleaned_data["method"],
                notified_at=form.cleaned_data["notified_at"],
                response=form.cleaned_data["response"],
                request=request,
            )
        except SafetyError as exc:
            form.add_error(None, str(exc))
        else:
            form = None  # type: ignore[assignment]
    if request.htmx:
        return _supervisor_panel(request, note, record_form=form)
    if form is not None:
        messages.error(
            request, gettext("The supervisor notification was not recorded: check the form.")
        )
    return redirect(note_url(note, "safety-supervisor"))


@role_required(Role.SUPERVISOR)
def supervisor_ack(request: AuthedRequest, record_id: int) -> HttpResponse:
    user = request.user
    record = selectors.supervisor_notification_for_supervisor(user=user, notification_id=record_id)
    note = record.session
    form = AcknowledgeForm(request.POST or None, initial={"response": record.response})
    if request.method == "POST" and form.is_valid():
        try:
            services.supervisor_acknowledge(
                actor=user, record=record, response=form.cleaned_data["response"], request=request
            )
        except SafetyError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, gettext("Your response was recorded on the note."))
            return redirect(reverse("safety:supervisor_ack", args=[record.pk]))
    else:
        audit_record(
            action=Action.VIEW, request=request, obj=note, summary="Supervisor notification"
        )
    screen = note.safety_screen
    return render(
        request,
        "safety/supervisor_ack.html",
        {"record": record, "note": note, "form": form, "screen": screen},
    )


# --- safety plan ----------------------------------------------------------------------------


def _plan_session(request: AuthedRequest, client: Client) -> CrisisSession | None:
    """The note the editor was opened from (?session=, or the form's hidden field). Anything but
    the user's own draft of this client is ignored: the editor then stands alone."""
    raw = request.POST.get("session") or request.GET.get("session")
    if not raw or not str(raw).isdigit():
        return None
    return selectors.note_draft_of_client(user=request.user, client=client, note_id=int(raw))


def _plan_initial(client: Client, current: SafetyPlanVersion | None) -> tuple[dict, dict]:
    if current is None:
        steps = services.plan_default_steps(client=client)
        fields: dict[str, Any] = {}
    else:
        steps = current.steps
        fields = {name: getattr(current, name) for name in services.PLAN_FIELDS}
    initial = {
        **fields,
        **{name: "\n".join(steps.get(name, [])) for name in SafetyPlanForm.TEXT_STEPS},
    }
    contacts = {step.value: list(steps.get(step.value, [])) for step in CONTACT_STEPS}
    return initial, contacts


@role_required(*READERS)
def plan(request: AuthedRequest, client_id: int) -> HttpResponse:
    """The client's current plan (read-only) and its versions."""
    client = selectors.client_get(user=request.user, client_id=client_id)
    versions = list(selectors.plan_version_list(client=client))
    audit_record(action=Action.VIEW, request=request, obj=client, summary="Safety plan")
    return render(
        request,
        "safety/plan_detail.html",
        {
            "client": client,
            "plan": versions[0] if versions else None,
            "versions": versions,
            "client_url": client_url(client),
        },
    )


@role_required(Role.COUNSELOR)
def plan_edit(request: AuthedRequest, client_id: int) -> HttpResponse:
    """Create or review the plan, normally from inside a session (?session=<note id>)."""
    user = request.user
    client = selectors.client_get(user=user, client_id=client_id)
    note = _plan_session(request, client)
    current = selectors.plan_current(client=client)
    initial, contacts = _plan_initial(client, current)
    if request.method == "POST":
        form = SafetyPlanForm(request.POST, contacts=contacts)
        saved = _plan_save(request, client=client, note=note, form=form)
        if saved is not None:
            version, created = saved
            message = _plan_saved_message(version, created)
            (messages.success if created else messages.info)(request, message)
            if note is not None:
                return redirect(note_url(note, "safety-plan"))
            return redirect(reverse("safety:plan", args=[client.pk]))
    else:
        form = SafetyPlanForm(initial=initial, contacts=contacts)
        audit_record(action=Action.VIEW, request=request, obj=client, summary="Safety plan editor")
    return render(
        request,
        "safety/plan_edit.html",
        {
            "client": client,
            "note": note,
            "form": form,
            "current": current,
            "max_entries": MAX_ENTRIES,
            "back_url": note_url(note, "safety-plan")
            if note
            else reverse("safety:plan", args=[client.pk]),
        },
    )


PANEL_FORM_ID = "safety-plan-panel-form"


def _plan_save(
    request: AuthedRequest, *, client: Client, note: CrisisSession | None, form: SafetyPlanForm
) -> tuple[SafetyPlanVersion, bool] | None:
    """Save the posted plan through the one service (the editor page and the panel alike): the
    new version and whether one was created, or None with the refusal on the form (invalid
    fields, or the note signed meanwhile); the typed text stays on the form either way."""
    if not form.is_valid():
        return None
    try:
        return services.safety_plan_save(
            actor=request.user,
            client=client,
            steps=form.steps(),
            fields=form.cleaned_data,
            session=note,
            request=request,
        )
    except SafetyError as exc:
        form.add_error(None, str(exc))
        return None


def _plan_saved_message(version: SafetyPlanVersion, created: bool) -> str:
    if not created:
        text = gettext("No changes: version %(number)s stays in force.")
    elif version.is_active:
        text = gettext("Safety plan version %(number)s saved; it is active.")
    else:
        text = gettext(
            "Safety plan version %(number)s saved; it is not active yet (steps 1, 2, 5 and 6 "
            "need an entry)."
        )
    return text % {"number": version.number}


@role_required(Role.COUNSELOR)
def plan_panel(request: AuthedRequest, note_id: int) -> HttpResponse:
    """The safety plan inside the note (htmx): GET shows the version in force, ?edit=1 the editor
    in place; POST saves a new version linked to this session through the same service as the
    editor page (which also takes the note's lock: a note signed meanwhile refuses the save)."""
    user = request.user
    note = selectors.note_get_for_author(user=user, note_id=note_id)
    client = note.client
    context: dict[str, Any] = {"note": note, "client": client, "max_entries": MAX_ENTRIES}
    response_headers: dict[str, str] = {}
    if request.method == "POST":
        current = selectors.plan_current(client=client)
        _, contacts = _plan_initial(client, current)
        form = SafetyPlanForm(request.POST, contacts=contacts, form_id=PANEL_FORM_ID)
        saved = _plan_save(request, client=client, note=note, form=form)
        if saved is not None:
            context["message"] = _plan_saved_message(*saved)
            # The note page refreshes its list of unmet sign rules (note.js).
            response_headers["HX-Trigger"] = "crisisnotes:plan-saved"
        else:
            context.update(editing=True, form=form, current=current)
    elif request.GET.get("edit"):
        current = selectors.plan_current(client=client)
        initial, contacts = _plan_initial(client, current)
        form = SafetyPlanForm(initial=initial, contacts=contacts, form_id=PANEL_FORM_ID)
        context.update(editing=True, form=form, current=current)
        audit_record(action=Action.VIEW, request=request, obj=client, summary="Safety plan editor")
    if not context.get("editing"):
        context["plan"] = selectors.plan_in_force(note=note)
    response = render(request, "safety/partials/plan_panel.html", context)
    for name, value in response_headers.items():
        response[name] = value
    return response


@role_required(*READERS)
def plan_version(request: AuthedRequest, client_id: int, number: int) -> HttpResponse:
    version = selectors.plan_version_get(user=request.user, client_id=client_id, number=number)
    audit_record(
        action=Action.VIEW, request=request, obj=version, summary=f"Safety plan version {number}"
    )
    return render(
        request,
        "safety/plan_version.html",
        {"client": version.client, "plan": version, "client_url": client_url(version.client)},
    )


@role_required(*READERS)
def plan_compare(request: AuthedRequest, client_id: int) -> HttpResponse:
    user = request.user
    client = selectors.client_get(user=user, client_id=client_id)
    versions = list(selectors.plan_version_list(client=client))
    numbers = [v.number for v in versions]

    def pick(name: str, default: int) -> int:
        raw = request.GET.get(name, "")
        return int(raw) if raw.isdigit() and int(raw) in numbers else default

    newer_n = pick("b", numbers[0] if numbers else 0)
    older_n = pick("a", numbers[1] if len(numbers) > 1 else newer_n)
    by_number = {v.number: v for v in versions}
    older, newer = by_number.get(older_n), by_number.get(newer_n)
    changes = services.plan_diff(older, newer) if older and newer else []
    audit_record(
        action=Action.VIEW,
        request=request,
        obj=client,
        summary=f"Safety plan compare v{older_n}–v{newer_n}",
    )
    return render(
        request,
        "safety/plan_compare.html",
        {
            "client": client,
            "versions": versions,
            "older": older,
            "newer": newer,
            "changes": changes,
        },
    )


def _client_copy_context(request: AuthedRequest, client_id: int) -> dict[str, Any]:
    client = selectors.client_get(user=request.user, client_id=client_id)
    current = selectors.plan_current(client=client)
    if current is None:
        raise Http404(gettext("This client has no safety plan yet."))
    entries = sum(len(entries) for *_, entries in current.step_list)
    # One page whatever the plan holds: long plans get a smaller (still large) type.
    density = "dense" if entries > 14 else ""
    density = "very-dense" if entries > 24 else density
    return {
        "client": client,
        "plan": current,
        "clinic": client.clinic,
        "crisis_lines": _clinic_lines_not_in_plan(client.clinic, current),
        "density": density,
        # The screen bar above the copy is for the counselor: it stays in their language.
        "interface_language": translation.get_language(),
    }


def _clinic_lines_not_in_plan(clinic: Any, plan: SafetyPlanVersion) -> list[dict[str, str]]:
    """The clinic's crisis lines (its own, then the others of its settings) for the client copy,
    leaving out any whose number step 5 of the plan already lists."""
    listed = {
        phone_digits(entry.get("phone", ""))
        for entry in plan.steps.get("professionals", [])
        if isinstance(entry, dict)
    }
    lines = []
    if clinic.crisis_line_phone:
        name = clinic.crisis_line_name or gettext("Crisis line")
        lines.append({"name": name, "phone": clinic.crisis_line_phone})
    lines += clinic.crisis_lines
    return [line for line in lines if phone_digits(line["phone"]) not in listed]


@role_required(*READERS)
def plan_client_copy(request: AuthedRequest, client_id: int) -> HttpResponse:
    context = _client_copy_context(request, client_id)
    audit_record(
        action=Action.EXPORT,
        request=request,
        obj=context["plan"],
        summary="Safety plan client copy (print)",
    )
    # The copy the client takes home is in the client's language, whatever the counselor's.
    language = context["client"].language
    with translation.override(language):
        response = render(request, "safety/plan_client_copy.html", {**context, "pdf": False})
    response["Content-Language"] = language
    return response


@role_required(*READERS)
def plan_client_copy_pdf(request: AuthedRequest, client_id: int) -> HttpResponse:
    context = _client_copy_context(request, client_id)
    # The copy the client takes home is in the client's language, whatever the counselor's.
    with translation.override(context["client"].language):
        return _pdf_export(
            request,
            template_name="safety/plan_client_copy.html",
            context={**context, "pdf": True},
            obj=context["plan"],
            summary="Safety plan client copy (PDF)",
            filename=f"safety-plan-v{context['plan'].number}.pdf",
        )


def _pdf_export(
    request: AuthedRequest,
    *,
    template_name: str,
    context: dict[str, Any],
    obj: Model,
    summary: str,
    filename: str,
) -> HttpResponse:
    """A printable page of a client's record as an inline PDF, audited as an export of `obj`."""
    from crisisnotes.pdf import pdf_render_template  # WeasyPrint loads where a PDF is made

    pdf = pdf_render_template(template_name=template_name, context=context)
    audit_record(action=Action.EXPORT, request=request, obj=obj, summary=summary)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# --- disclosures ----------------------------------------------------------------------------


@role_required(Role.COUNSELOR)
def disclosure_new(request: AuthedRequest, note_id: int) -> HttpResponse:
    user = request.user
    note = selectors.note_get_for_author(user=user, note_id=note_id)
    initial = {"type": request.GET.get("type", "")}
    form = DisclosureForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.disclosure_create(
                actor=user, note=note, data=form.cleaned_data, request=request
            )
        except SafetyError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, gettext("Disclosure recorded in the client's accounting."))
            return redirect(note_url(note, "safety-disclosures"))
    if request.method != "POST":
        audit_record(
            action=Action.VIEW, request=request, obj=note.client, summary="Disclosure form"
        )
    return render(
        request,
        "safety/disclosure_form.html",
        {
            "note": note,
            "client": note.client,
            "form": form,
            "back_url": note_url(note, "safety-disclosures"),
        },
    )


def _accounting_context(request: AuthedRequest, client_id: int) -> dict[str, Any]:
    client = selectors.client_get(user=request.user, client_id=client_id)
    period = PeriodForm(request.GET or None)
    date_from = date_to = None
    if period.is_bound and period.is_valid():
        date_from, date_to = period.cleaned_data["date_from"], period.cleaned_data["date_to"]
    disclosures = list(
        selectors.disclosure_list_for_client(client=client, date_from=date_from, date_to=date_to)
    )
    return {
        "client": client,
        "clinic": client.clinic,
        "disclosures": disclosures,
        "period": period,
        "date_from": date_from,
        "date_to": date_to,
        "query": request.GET.urlencode(),
        "client_url": client_url(client),
        "time_zone": timezone.get_current_timezone_name(),
        "printed_at": timezone.localtime(),
        "printed_by": request.user,
    }


@role_required(*READERS)
def disclosure_accounting(request: AuthedRequest, client_id: int) -> HttpResponse:
    context = _accounting_context(request, client_id)
    audit_record(
        action=Action.VIEW,
        request=request,
        obj=context["client"],
        summary="Accounting of disclosures",
    )
    return render(request, "safety/disclosure_accounting.html", context)


@role_required(*READERS)
def disclosure_accounting_pdf(request: AuthedRequest, client_id: int) -> HttpResponse:
    """The accounting for one client over a period, printable, as the client may request it
    (HIPAA §164.528). Audited as an export of the client's record."""
    context = _accounting_context(request, client_id)
    return _pdf_export(
        request,
        template_name="safety/disclosure_accounting_pdf.html",
        context=context,
        obj=context["client"],
        summary="Accounting of disclosures (PDF)",
        filename=f"accounting-of-disclosures-{context['client'].pk}.pdf",
    )


@role_required(*READERS)
def disclosure_record_view(request: AuthedRequest, client_id: int) -> HttpResponse:
    """Record a disclosure for a client at any time: after signing, or outside any session."""
    user = request.user
    client = selectors.client_get(user=user, client_id=client_id)
    sessions = selectors.disclosure_session_choices(user=user, client=client)
    staff = user.has_role(Role.SUPERVISOR) or user.has_role(Role.CLINIC_ADMIN)
    form = DisclosureRecordForm(
        request.POST or None,
        sessions=sessions,
        session_required=not staff,
        initial={"type": request.GET.get("type", "")},
    )
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        session = data.pop("session", None)
        try:
            services.disclosure_record(
                actor=user, client=client, session=session, data=data, request=request
            )
        except SafetyError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, gettext("Disclosure recorded in the client's accounting."))
            return redirect("safety:disclosure_accounting", client_id=client.pk)
    if request.method != "POST":
        audit_record(action=Action.VIEW, request=request, obj=client, summary="Disclosure form")
    back = reverse("safety:disclosure_accounting", args=[client.pk])
    return render(
        request,
        "safety/disclosure_form.html",
        {"note": None, "client": client, "form": form, "back_url": back},
    )


@role_required(Role.CLINIC_ADMIN)
def disclosure_export_view(request: AuthedRequest, job_id: int) -> HttpResponse:
    """Record a finished export sent outside the clinic as a disclosure of each client in it."""
    user = request.user
    job = selectors.export_job_for_disclosure(user=user, job_id=job_id)
    form = ExportDisclosureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.disclosure_record_for_export(
                actor=user, job=job, data=form.cleaned_data, request=request
            )
        except SafetyError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(
                request,
                ngettext(
                    "Recorded in the accounting of disclosures of %(count)d client.",
                    "Recorded in the accounting of disclosures of %(count)d clients.",
                    len(created),
                )
                % {"count": len(created)},
            )
            return redirect("crisis_sessions:export_detail", job_id=job.pk)
    return render(
        request,
        "safety/disclosure_export_form.html",
        {
            "job": job,
            "form": form,
            "already": selectors.export_disclosure_count(job=job),
        },
    )


@role_required(*READERS)
def disclosure_detail(request: AuthedRequest, disclosure_id: int) -> HttpResponse:
    disclosure = selectors.disclosure_get(user=request.user, disclosure_id=disclosure_id)
    audit_record(action=Action.VIEW, request=request, obj=disclosure, summary="Disclosure")
    return render(
        request,
        "safety/disclosure_detail.html",
        {"d": disclosure, "client": disclosure.client, "client_url": client_url(disclosure.client)},
    )
