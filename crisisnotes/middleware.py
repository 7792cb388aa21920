from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone, translation
from django.utils.cache import add_never_cache_headers


class NoStoreMiddleware:
    """Pages shown to a signed-in user hold client records: no browser or proxy may keep them
    (a shared clinic computer's back button must not show the last client)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        # Left alone: an answer that says it never changes at its address (the JavaScript
        # catalogue at its versioned one: the interface's words, nothing of a client's;
        # crisisnotes.js_catalog).
        immutable = "immutable" in response.get("Cache-Control", "")
        if request.user.is_authenticated and not immutable:
            add_never_cache_headers(response)
            response["Cache-Control"] += ", no-store"
        return response


class ClinicTimeZoneMiddleware:
    """Activate the signed-in user's clinic time zone for the request, so every time shown,
    every date typed and every "today" or "this week" is the clinic's. Anonymous pages (the login)
    use settings.TIME_ZONE."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        clinic = getattr(user, "clinic", None) if user.is_authenticated else None
        if clinic is not None:
            timezone.activate(clinic.zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class AuditDeniedMiddleware:
    """Every refused access by a signed-in user is an audit event ("denied") naming what was
    asked for: the view and its arguments (e.g. a note id). Selectors and role checks refuse by
    raising Http404 (another clinic's object, or none) or PermissionDenied (a missing role);
    this is the one place that sees both."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        from crisisnotes.audit.models import Action
        from crisisnotes.audit.services import audit_record

        if not isinstance(exception, Http404 | PermissionDenied):
            return None
        if not request.user.is_authenticated:
            return None
        match = request.resolver_match
        view = match.view_name if match else ""
        asked = ",".join(f"{k}={v}" for k, v in sorted((match.kwargs if match else {}).items()))
        audit_record(
            action=Action.DENIED,
            request=request,
            object_type=view,
            object_id=asked,
            summary=f"{'404' if isinstance(exception, Http404) else '403'} "
            f"{request.method} {request.path}",
        )
        return None  # Django renders the 404/403 page as usual.


class PermissionsPolicyMiddleware:
    """Sends settings.PERMISSIONS_POLICY on every response (Django has no setting for it)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class UserLanguageMiddleware:
    """Activate the signed-in user's interface language (User.language) for the request.

    Runs after authentication; LocaleMiddleware (earlier) has already chosen from the language
    cookie or Accept-Language, which is what anonymous pages (the login) keep. A user with no
    choice of their own ("") keeps that choice too. The client copy of a safety plan overrides
    this with the client's language (safety/views.py)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        language = getattr(user, "language", "") if user.is_authenticated else ""
        if language:
            translation.activate(language)
            request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        if language:
            response.headers.setdefault("Content-Language", language)
        return response
