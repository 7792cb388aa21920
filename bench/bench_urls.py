"""The app's URLs plus the pages bench's floor: `/bench/floor/?id=N`, an authenticated request
through the whole middleware stack (session, user, clinic time zone, CSRF, ...) that runs one
indexed query — a client's alias by primary key within the user's clinic — and returns it as
text. Served only under bench.bench_settings, never by the app."""

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.urls import path

from crisisnotes.urls import urlpatterns as app_urlpatterns
from sessions.models import Client


def floor_view(request: HttpRequest) -> HttpResponse:
    clinic_id: int = getattr(request.user, "clinic_id", 0) or 0
    alias = (
        Client.objects.filter(clinic_id=clinic_id, pk=int(request.GET.get("id", "0")))
        .values_list("alias", flat=True)
        .first()
    )
    return HttpResponse(alias or "", content_type="text/plain", status=200 if alias else 404)


def server_time(get_response: Callable[[HttpRequest], HttpResponse]):
    """Middleware: X-Bench-Server-Ms, the milliseconds this worker spent on the request."""

    def middleware(request: HttpRequest) -> HttpResponse:
        began = time.perf_counter()
        response = get_response(request)
        response["X-Bench-Server-Ms"] = f"{(time.perf_counter() - began) * 1000:.2f}"
        return response

    return middleware


urlpatterns = [path("bench/floor/", floor_view, name="bench_floor"), *app_urlpatterns]
