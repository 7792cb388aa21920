"""Invented demo data for `manage.py seed_demo`. Every name here is made up."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field

from django.db import transaction

from crisisnotes.accounts.models import Clinic, Team, User
from crisisnotes.accounts.services import user_create
from sessions.models import Client, CommunityResource
from sessions.models.clients import ResourceCategory

DEMO_CLINIC_SLUG = "demo-clinic"

DEMO_USERS = [
    # username, full name, credential, licence, trainee, counselor, supervisor, admin
    ("counselor", "Robin Example", "LPC", "LPC-00417", False, True, False, False),
    ("trainee", "Sam Placeholder", "Counseling intern", "", True, True, False, False),
    ("supervisor", "Morgan Sample", "LCSW", "LCSW-22918", False, True, True, False),
    ("admin", "Alex Demo", "", "", False, False, False, True),
]

DEMO_CLIENTS = [
    # alias, name, phone, pronouns
    ("Caller, blue jacket", "", "", ""),
    ("Returning caller, night shift", "Jordan Fictional", "(555) 010-4477", "they/them"),
    ("Text line, exam stress", "Casey Madeup", "555-010-9921", "she/her"),
]

DEMO_RESOURCES = [
    (ResourceCategory.LIFELINE_988, "988 Suicide & Crisis Lifeline", "Call or text 988"),
    (ResourceCategory.CRISIS_COUNSELLING, "Demo Crisis Counselling", "555-010-0100"),
    (ResourceCategory.WALK_IN, "Riverside Walk-in Clinic (demo)", "12 Example St, 555-010-0200"),
    (ResourceCategory.SHELTER, "Harbour Night Shelter (demo)", "555-010-0300"),
    (ResourceCategory.FOOD, "Northside Food Bank (demo)", "555-010-0400"),
]


@dataclass
class DemoResult:
    created_users: list[str] = field(default_factory=list)
    existing_users: list[str] = field(default_factory=list)
    password: str | None = None


@transaction.atomic
def demo_seed(*, password: str | None) -> DemoResult:
    """Create the demo clinic, team, users, clients and resource directory if missing.

    Idempotent: running it again creates nothing and changes nothing (existing users keep their
    password). Without `password` a random one is generated and returned once."""
    result = DemoResult()
    clinic, _ = Clinic.objects.get_or_create(
        slug=DEMO_CLINIC_SLUG,
        defaults={
            "name": "Demo Crisis Clinic",
            "crisis_line_name": "Demo Clinic Crisis Line",
            "crisis_line_phone": "555-010-0000",
            "address": "1 Example Avenue, Demo City",
        },
    )
    team, _ = Team.objects.get_or_create(clinic=clinic, name="Night team")
    new_password = password or secrets.token_urlsafe(12)
    for (
        username,
        full_name,
        credential,
        licence,
        trainee,
        counselor,
        supervisor,
        admin,
    ) in DEMO_USERS:
        if User.objects.filter(username=username).exists():
            result.existing_users.append(username)
            continue
        user_create(
            actor=None,
            clinic=clinic,
            username=username,
            full_name=full_name,
            password=new_password,
            email=f"{username}@demo.invalid",
            credential=credential,
            licence_number=licence,
            is_trainee=trainee,
            team=team if counselor else None,
            is_counselor=counselor,
            is_supervisor=supervisor,
            is_clinic_admin=admin,
        )
        result.created_users.append(username)
    if result.created_users:
        result.password = new_password
    if team.supervisor_id is None:
        team.supervisor = User.objects.get(username="supervisor")
        team.save(update_fields=["supervisor"])
    author = User.objects.get(username="counselor")
    for alias, name, phone, pronouns in DEMO_CLIENTS:
        if not Client.objects.filter(clinic=clinic, alias=alias).exists():
            Client.objects.create(
                clinic=clinic,
                alias=alias,
                name=name,
                phone=phone,
                pronouns=pronouns,
                created_by=author,
            )
    for category, name, contact in DEMO_RESOURCES:
        CommunityResource.objects.get_or_create(
            clinic=clinic, name=name, defaults={"category": category, "contact": contact}
        )
    return result
