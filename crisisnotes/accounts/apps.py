from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "crisisnotes.accounts"
    label = "accounts"
    verbose_name = _("Accounts and clinics")

    def ready(self) -> None:
        from crisisnotes.accounts import mfa, signals  # noqa: F401  (connects auditing)
