from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from crisisnotes.http import AuthedRequest
from crisisnotes.notifications.selectors import notification_list, notification_unread_count
from crisisnotes.notifications.services import notification_mark_read
from crisisnotes.polling import poll_endpoint


@login_required
def notification_list_view(request: AuthedRequest) -> HttpResponse:
    notifications = notification_list(user=request.user)[:200]
    return render(request, "notifications/list.html", {"notifications": notifications})


@require_POST
@login_required
def notification_read_view(request: AuthedRequest) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()] or None
    notification_mark_read(recipient=request.user, notification_ids=ids)
    return redirect("notifications:list")


@poll_endpoint
def notification_bell_view(request: AuthedRequest) -> HttpResponse:
    """The bell, polled from every page. `?seen=N` is the count the page shows: unchanged → 204
    and htmx swaps nothing; otherwise the bell again, naming the newest unread notification when
    the count went up."""
    user = request.user
    count = notification_unread_count(user=user)
    seen = request.GET.get("seen", "")
    if seen.isdigit() and int(seen) == count:
        return HttpResponse(status=204)
    latest = None
    if count and (not seen.isdigit() or count > int(seen)):
        latest = notification_list(user=user).filter(read_at__isnull=True).first()
    return render(
        request,
        "notifications/partials/bell.html",
        {"unread_notifications": count, "bell_latest": latest},
    )
