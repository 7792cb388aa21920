from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from crisisnotes.notifications.selectors import notification_list
from crisisnotes.notifications.services import notification_mark_read


@login_required
def notification_list_view(request: HttpRequest) -> HttpResponse:
    notifications = notification_list(user=request.user)[:200]  # type: ignore[arg-type]
    return render(request, "notifications/list.html", {"notifications": notifications})


@require_POST
@login_required
def notification_read_view(request: HttpRequest) -> HttpResponse:
    ids = [int(i) for i in request.POST.getlist("id") if i.isdigit()] or None
    notification_mark_read(recipient=request.user, notification_ids=ids)  # type: ignore[arg-type]
    return redirect("notifications:list")
