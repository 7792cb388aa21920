"""Celery tasks of the notifications app: each takes ids and calls one service."""

from __future__ import annotations

from celery import shared_task

from crisisnotes.notifications.services import notifications_email as _notifications_email


@shared_task(name="notifications.email", acks_late=True, ignore_result=True)
def notifications_email(notification_ids: list[int]) -> None:
    _notifications_email(notification_ids=notification_ids)
