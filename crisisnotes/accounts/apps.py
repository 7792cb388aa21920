from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "crisisnotes.accounts"
    label = "accounts"
    verbose_name = "Accounts and clinics"

    def ready(self) -> None:
        from crisisnotes.accounts import signals  # noqa: F401  (connects login auditing)
