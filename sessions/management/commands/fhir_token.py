"""Partner tokens of the read-only FHIR endpoint (FHIR_API_ENABLED):

    manage.py fhir_token create --clinic <slug> --name "Partner 988 centre"
    manage.py fhir_token list --clinic <slug>
    manage.py fhir_token revoke <prefix>

`create` prints the token once; only its SHA-256 is stored."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from crisisnotes.accounts.models import Clinic
from sessions.models import FhirApiToken
from sessions.services.fhir import FhirApiError, fhir_token_create, fhir_token_revoke


class Command(BaseCommand):
    help = "Create, list or revoke partner tokens of the read-only FHIR endpoint."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create")
        create.add_argument("--clinic", required=True, help="The clinic's slug.")
        create.add_argument("--name", required=True, help="The partner system.")
        listing = sub.add_parser("list")
        listing.add_argument("--clinic", required=True)
        revoke = sub.add_parser("revoke")
        revoke.add_argument("prefix", help="The token's prefix, as `list` shows it.")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"]
        if action == "revoke":
            tokens = list(FhirApiToken.objects.filter(prefix=options["prefix"]))
            if len(tokens) != 1:
                raise CommandError("No single token has that prefix.")
            fhir_token_revoke(token=tokens[0])
            self.stdout.write(f"Revoked {tokens[0]}.")
            return
        clinic = Clinic.objects.filter(slug=options["clinic"]).first()
        if clinic is None:
            raise CommandError(f"No clinic with the slug {options['clinic']!r}.")
        if action == "list":
            for token in FhirApiToken.objects.filter(clinic=clinic):
                state = "revoked" if token.revoked_at else "active"
                used = token.last_used_at.isoformat() if token.last_used_at else "never"
                self.stdout.write(f"{token.prefix}\t{state}\tlast used {used}\t{token.name}")
            return
        try:
            token, raw = fhir_token_create(clinic=clinic, name=options["name"])
        except FhirApiError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Token for {token.name} ({clinic.name}), shown this once:\n{raw}")
