from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "crisisnotes.accounts"
    label = "accounts"
    verbose_name = "Accounts and clinics"

    def ready(self) -> None:
        from crisisnotes.accounts import mfa, signals  # noqa: F401  (connects auditing)
