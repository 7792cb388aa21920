from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "safety"
    label = "safety"
    verbose_name = "Safety"

    def ready(self) -> None:
        # Registers the Safety section of the note, with its sign rules 2–9 and client page
        # panels (sessions never imports safety: the dependency runs one way).
        from safety import sections  # noqa: F401
