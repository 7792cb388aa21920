from __future__ import annotations

from django.db.models import QuerySet

from crisisnotes.accounts.models import User
from crisisnotes.notifications.models import Notification


def notification_list(*, user: User) -> QuerySet[Notification]:
    # With its e-mail row: the list shows whether the e-mail went out, is retrying or gave up.
    return Notification.objects.filter(recipient=user).select_related("email")


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
