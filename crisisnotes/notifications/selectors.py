from __future__ import annotations

from django.db.models import QuerySet

from crisisnotes.accounts.models import User
from crisisnotes.notifications.models import Notification


def notification_list(*, user: User) -> QuerySet[Notification]:
    return Notification.objects.filter(recipient=user)


def notification_unread_count(*, user: User) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
