"""Invented demo data for `manage.py seed_demo`. Every name here is made up."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from crisisnotes.accounts.models import Clinic, Team, User
from crisisnotes.accounts.services import user_create
from sessions.models import (
    Client,
    CommunityResource,
    CrisisSession,
)
from sessions.models.clients import ResourceCategory
from sessions.models.notes import Disposition
from sessions.services.notes import (
    note_autosave,
    note_create,
    note_end,
    note_form_data,
    section_relations,
)
from sessions.services.signing import note_sign

DEMO_CLINIC_SLUG = "demo-clinic"

DEMO_USERS = [
    # username, full name, credential, licence, trainee, counselor, supervisor, admin
    ("counselor", "Robin Example", "LPC", "LPC-00417", False, True, False, False),
    ("trainee", "Sam Placeholder", "Counseling intern", "", True, True, False, False),
    ("supervisor", "Morgan Sample", "LCSW", "LCSW-22918", False, True, True, False),
    ("admin", "Alex Demo", "", "", False, False, False, True),
]

DEMO_CLIENTS = [
    # alias, name, phone, pronouns, language (of the client copy of the safety plan)
    ("Caller, blue jacket", "", "", "", "en"),
    ("Returning caller, night shift", "Jordan Fictional", "(555) 010-4477", "they/them", "en"),
    ("Text line, exam stress", "Casey Madeup", "555-010-9921", "she/her", "en"),
    ("Llamada en español, turno de tarde", "Lucía Inventada", "555-010-7788", "ella", "es"),
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
            "emergency_number": "911",
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
    for alias, name, phone, pronouns, language in DEMO_CLIENTS:
        if not Client.objects.filter(clinic=clinic, alias=alias).exists():
            Client.objects.create(
                clinic=clinic,
                alias=alias,
                name=name,
                phone=phone,
                pronouns=pronouns,
                language=language,
                created_by=author,
            )
    for category, name, contact in DEMO_RESOURCES:
        CommunityResource.objects.get_or_create(
            clinic=clinic, name=name, defaults={"category": category, "contact": contact}
        )
    _seed_past_session(clinic=clinic, author=author)
    return result


RETURNING_ALIAS = "Returning caller, night shift"


# The past session as the counselor would type it. The Safety stage belongs to the safety app,
# which sessions must not import: its fields are named here by their HTML names only (prefixes
# "safety-screen", "safety-formulation", "safety-means"). A no-risk phone call: C-SSRS screener
# questions 1, 2 and 6 answered "no" (the skip logic leaves 3-5 unasked), agitation 2 on 0-10.
PAST_SESSION_DATA: dict[str, Any] = {
    "header-confidentiality_explained": "on",
    "safety-screen-q1": "no",
    "safety-screen-q2": "no",
    "safety-screen-q6": "no",
    "safety-means-agitation": "2",
    "exploration-precipitating_event": "Shift cancelled again; worried about rent.",
    "exploration-suds_start": "7",
    "exploration-suds_end": "4",
    "rapport-engagement_notes": "Engaged quickly; has called before.",
    "rapport-validation_notes": "Validated the stress of unstable hours.",
    "problem_solving-interventions": "Active listening, problem-solving around rent, budgeting.",
    "problem_solving-action_plan": "Call the landlord on Monday; food bank on Saturday.",
    "follow_up-supports": "Sibling (Alex, invented) in the next town; coworker on nights.",
    "follow_up-triggers": "Missed shifts; being alone after a night shift.",
    "follow_up-referral_1_to": "Demo Crisis Counselling",
    "follow_up-referral_1_urgency": "routine",
    "follow_up-referral_1_made": "on",
    "follow_up-referral_1_accepted": "on",
    "follow_up-followup_plan": "Check-in call in two days.",
    "follow_up-crisis_numbers_given": "on",
    "follow_up-disposition": Disposition.STABILISED,
}
PAST_SESSION_RESOURCES = ("988 Suicide & Crisis Lifeline", "Northside Food Bank (demo)")


def _seed_past_session(*, clinic: Clinic, author: User) -> None:
    """One signed session, three days ago, for the returning demo client, so that the client's
    timeline and copy-forward have something to show. Written and signed through the same
    services as a real note (note_create → note_autosave → note_sign), so it meets every
    registered sign rule (the safety app's included) and carries a real content hash.

    Honesty about time: the session is dated three days ago, but it is entered and signed now,
    so note_sign labels it a late entry, which is what it is. Faking signed_at would need writes
    around the service. Idempotent: nothing happens once the client has any session."""
    client = Client.objects.get(clinic=clinic, alias=RETURNING_ALIAS)
    if client.sessions.exists():
        return
    started = timezone.now().replace(second=0, microsecond=0) - timedelta(days=3)
    note = note_create(author=author, client=client, modality="phone", started_at=started)
    note = _reload(note)
    data = note_form_data(note=note)
    data.update(PAST_SESSION_DATA)
    data["header-ended_at"] = (timezone.localtime(started) + timedelta(minutes=35)).strftime(
        "%Y-%m-%dT%H:%M"
    )
    data["rapport-resources_given"] = [
        str(pk)
        for pk in CommunityResource.objects.filter(
            clinic=clinic, name__in=PAST_SESSION_RESOURCES
        ).values_list("pk", flat=True)
    ]
    note = note_autosave(note=note, user=author, base_version=note.version, data=data)
    note = note_end(note=_reload(note), user=author, base_version=note.version)
    note_sign(note=_reload(note), user=author)


def _reload(note: CrisisSession) -> CrisisSession:
    return CrisisSession.objects.select_related("clinic", "author", *section_relations()).get(
        pk=note.pk
    )
