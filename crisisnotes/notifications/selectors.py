from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet

from crisisnotes.accounts.models import User
from crisisnotes.notifications.models import Notification
from crisisnotes.prepared import Statement, take_ahead


def notification_list(*, user: User) -> QuerySet[Notification]:
    # With its e-mail row: the list shows whether the e-mail went out, is retrying or gave up.
    return Notification.objects.filter(recipient=user).select_related("email")


def notification_unread(*, user: User) -> QuerySet[Notification]:
    """The user's unread notifications: the rule's home (_UNREAD_COUNT_SQL counts the same)."""
    return Notification.objects.filter(recipient=user, read_at__isnull=True)


# notification_unread's count, written once: every page's bell (and its poll) asks for it, and
# the ORM's aggregate cost ~1.5 ms of CPU to build and compile against well under one to run
# (bench/README.md, issue 15). tests/notifications/test_services.py compares the two.
_UNREAD_COUNT_SQL = f"""
SELECT count(*) FROM {Notification._meta.db_table} WHERE recipient_id = %s AND read_at IS NULL
"""  # noqa: S608 (a table name; the value is a parameter)


def notification_unread_count(*, user: User) -> int:
    if connection.vendor != "postgresql":
        return notification_unread(user=user).count()
    ahead = take_ahead(_unread_count_statement(user))
    if ahead is not None:
        ((count,),) = ahead
        return int(count)
    with connection.cursor() as cursor:
        cursor.execute(_UNREAD_COUNT_SQL, [user.pk])
        (count,) = cursor.fetchone()
    return int(count)


def _unread_count_statement(user: User) -> Statement:
    return (_UNREAD_COUNT_SQL, (user.pk,))


def notification_unread_count_ahead(*, user: User) -> list[Statement]:
    """The bell's statement, for a page to read ahead with its own (crisisnotes/prepared.py);
    none where the count is the ORM's."""
    if connection.vendor != "postgresql":
        return []
    return [_unread_count_statement(user)]
