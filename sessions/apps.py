from django.apps import AppConfig
from django.utils.translation import gettext_lazy


class CrisisSessionsConfig(AppConfig):
    name = "sessions"
    # django.contrib.sessions owns the label "sessions".
    label = "crisis_sessions"
    verbose_name = gettext_lazy("Crisis sessions")

    def ready(self) -> None:
        # Registers the four stages this app owns (exploration, rapport, problem-solving,
        # follow-up) with their sign rules; the safety app registers its own section.
        from sessions import sections  # noqa: F401
