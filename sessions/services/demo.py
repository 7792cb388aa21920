"""Invented demo data for `manage.py seed_demo`. Every name here is made up."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from crisisnotes.accounts.models import Clinic, Team, User
from crisisnotes.accounts.services import user_create
from sessions.models import (
    Client,
    CommunityResource,
    CrisisSession,
    ExplorationStage,
    FollowUpStage,
    ProblemSolvingStage,
    RapportStage,
)
from sessions.models.clients import ResourceCategory
from sessions.models.notes import Disposition, NoteStatus
from sessions.services.notes import note_create
from sessions.services.signing import note_content_hash

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
    _seed_past_session(clinic=clinic, author=author)
    return result


RETURNING_ALIAS = "Returning caller, night shift"


def _seed_past_session(*, clinic: Clinic, author: User) -> None:
    """One signed session, three days ago, for the returning demo client, so that the client's
    timeline and copy-forward have something to show. Written directly (demo data, not a real
    signature through every sign rule); its content hash is computed like a real one."""
    client = Client.objects.get(clinic=clinic, alias=RETURNING_ALIAS)
    if client.sessions.exists():
        return
    started = timezone.now().replace(second=0, microsecond=0) - timedelta(days=3)
    note = note_create(author=author, client=client, modality="phone", started_at=started)
    ExplorationStage.objects.filter(session=note).update(
        precipitating_event="Shift cancelled again; worried about rent.",
        suds_start=7,
        suds_end=4,
    )
    RapportStage.objects.filter(session=note).update(
        engagement_notes="Engaged quickly; has called before.",
        validation_notes="Validated the stress of unstable hours.",
        resources_given=[
            {
                "category": "988",
                "name": "988 Suicide & Crisis Lifeline",
                "contact": "Call or text 988",
            },
            {
                "category": "food",
                "name": "Northside Food Bank (demo)",
                "contact": "555-010-0400",
            },
        ],
    )
    ProblemSolvingStage.objects.filter(session=note).update(
        interventions="Active listening, problem-solving around rent, budgeting plan.",
        action_plan="Call the landlord on Monday; food bank on Saturday.",
    )
    FollowUpStage.objects.filter(session=note).update(
        supports="Sibling (Alex, invented) in the next town; coworker on nights.",
        triggers="Missed shifts; being alone after a night shift.",
        referrals=[
            {"to": "Demo Crisis Counselling", "urgency": "routine", "made": True, "accepted": True}
        ],
        followup_plan="Check-in call in two days.",
        crisis_numbers_given=True,
        disposition=Disposition.STABILISED,
    )
    note = CrisisSession.objects.get(pk=note.pk)
    note.ended_at = started + timedelta(minutes=35)
    note.confidentiality_explained = True
    note.save()
    note.status = NoteStatus.SIGNED
    note.signed_by = author
    note.signed_at = note.ended_at + timedelta(minutes=10)
    note.signer_name = author.display_name
    note.signer_credential = author.credential
    note.signer_licence = author.licence_number
    note.content_hash = note_content_hash(note)
    note.save()
