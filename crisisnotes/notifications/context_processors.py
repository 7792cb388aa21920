from typing import Any

from django.conf import settings
from django.http import HttpRequest

from crisisnotes.notifications.selectors import notification_unread_count


def notifications(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    # Lazy: only pages that render the bell pay for the count query.
    return {
        "unread_notifications": lambda: notification_unread_count(user=user),
        "notification_poll_seconds": settings.NOTIFICATION_POLL_SECONDS,
    }
