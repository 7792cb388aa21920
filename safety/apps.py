from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "safety"
    label = "safety"
    verbose_name = "Safety"
