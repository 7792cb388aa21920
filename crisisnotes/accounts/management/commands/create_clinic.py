"""manage.py create_clinic: the first step of a deployment — a clinic, its first team and its
first clinic admin, who then runs the clinic from the app (users, settings, resources)."""

from __future__ import annotations

import secrets
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils.text import slugify

from crisisnotes.accounts.clinic_services import ClinicSettingsError, clinic_create
from crisisnotes.accounts.services import user_password_reset_request


class Command(BaseCommand):
    help = (
        "Create a clinic, its first team and its first clinic admin. Prints a one-time "
        "password for the admin, or with --send-reset-link e-mails them a link to set their own."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="The clinic's name.")
        parser.add_argument("--slug", help="Short name (default: from the name).")
        parser.add_argument(
            "--time-zone", default="UTC", help="IANA time zone, e.g. America/Los_Angeles."
        )
        parser.add_argument("--team", default="Crisis team", help="Name of the first team.")
        parser.add_argument("--admin-username", required=True)
        parser.add_argument("--admin-name", required=True, help="The admin's full name.")
        parser.add_argument("--admin-email", default="")
        parser.add_argument(
            "--send-reset-link",
            action="store_true",
            help="E-mail the admin a password-reset link (needs --admin-email and EMAIL_URL) "
            "instead of printing a password.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        send_link = options["send_reset_link"]
        if send_link and not options["admin_email"]:
            raise CommandError("--send-reset-link needs --admin-email.")
        # With a reset link the password is random and never shown: Django's reset form ignores
        # accounts with an unusable password, so the admin needs a usable one to replace.
        password = secrets.token_urlsafe(32 if send_link else 12)
        try:
            with transaction.atomic():
                clinic, team, admin = clinic_create(
                    name=options["name"],
                    slug=options["slug"] or slugify(options["name"]),
                    time_zone=options["time_zone"],
                    team_name=options["team"],
                    admin_username=options["admin_username"],
                    admin_full_name=options["admin_name"],
                    admin_email=options["admin_email"],
                    admin_password=password,
                )
        except (ClinicSettingsError, ValidationError) as error:
            messages = error.messages if isinstance(error, ValidationError) else [str(error)]
            raise CommandError(" ".join(messages)) from error
        self.stdout.write(
            f"Created clinic “{clinic.name}” ({clinic.slug}, {clinic.time_zone}), team "
            f"“{team.name}” and clinic admin “{admin.username}”."
        )
        site = urlsplit(settings.SITE_URL)
        if send_link:
            with transaction.atomic():
                # The outbox row commits here; its send task is queued on commit.
                sent = user_password_reset_request(
                    user=admin, domain=site.netloc, use_https=site.scheme == "https"
                )
            self.stdout.write(
                f"A link to set a password is queued for {admin.email}."
                if sent
                else "No e-mail could be sent; use “Forgot password?” on the login page."
            )
        else:
            self.stdout.write(f"One-time password for {admin.username}: {password}")
            self.stdout.write(
                "It is shown only now: sign in at "
                f"{settings.SITE_URL.rstrip('/')}/login/ and change it (Password change)."
            )
