from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "crisisnotes.notifications"
    label = "notifications"
    verbose_name = "In-app notifications"
