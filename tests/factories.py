"""factory-boy factories. Every name is invented (Faker's en_US provider, fixed seed)."""

from __future__ import annotations

from datetime import timedelta

import factory
from django.utils import timezone

from crisisnotes.accounts.models import Clinic, Team, User
from sessions.models import Client, CrisisSession
from sessions.models.notes import Modality

PASSWORD = "correct-horse-battery"


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    name = factory.Sequence(lambda n: f"Test Clinic {n}")
    slug = factory.Sequence(lambda n: f"test-clinic-{n}")
    crisis_line_name = "Test Crisis Line"
    crisis_line_phone = "555-010-0000"


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    clinic = factory.SubFactory(ClinicFactory)
    name = factory.Sequence(lambda n: f"Team {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    clinic = factory.SubFactory(ClinicFactory)
    username = factory.Sequence(lambda n: f"user{n}")
    full_name = factory.Faker("name")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.invalid")
    credential = "LPC"
    licence_number = factory.Sequence(lambda n: f"LPC-{n:05d}")
    is_counselor = True
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.save()


class ClientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Client

    clinic = factory.SubFactory(ClinicFactory)
    alias = factory.Sequence(lambda n: f"Caller {n}, grey scarf")
    created_by = factory.SubFactory(UserFactory, clinic=factory.SelfAttribute("..clinic"))


class CrisisSessionFactory(factory.django.DjangoModelFactory):
    """A bare draft note row. Tests that need the stage rows create notes through the service
    (sessions.services.notes.note_create), which is what the app does."""

    class Meta:
        model = CrisisSession

    clinic = factory.SubFactory(ClinicFactory)
    client = factory.SubFactory(ClientFactory, clinic=factory.SelfAttribute("..clinic"))
    author = factory.SubFactory(UserFactory, clinic=factory.SelfAttribute("..clinic"))
    modality = Modality.PHONE
    started_at = factory.LazyFunction(timezone.now)


class SignedSessionFactory(CrisisSessionFactory):
    """A signed note built directly (inserting a signed row is allowed; changing one is not), for
    tests of what reads signed records: exports, PDFs."""

    status = "signed"
    ended_at = factory.LazyAttribute(lambda n: n.started_at + timedelta(minutes=40))
    signed_by = factory.SelfAttribute("author")
    signed_at = factory.LazyFunction(timezone.now)
    signer_name = factory.LazyAttribute(lambda n: n.author.display_name)
    signer_credential = factory.LazyAttribute(lambda n: n.author.credential)
    signer_licence = factory.LazyAttribute(lambda n: n.author.licence_number)
    content_hash = factory.Sequence(lambda n: f"{n:064x}")
    confidentiality_explained = True


class FollowUpTaskFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "crisis_sessions.FollowUpTask"

    # The client's creator is the note's author: one user fewer to hash a password for.
    session = factory.SubFactory(
        CrisisSessionFactory, client__created_by=factory.SelfAttribute("..author")
    )
    clinic = factory.SelfAttribute("session.clinic")
    client = factory.SelfAttribute("session.client")
    assigned_to = factory.SelfAttribute("session.author")
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(hours=24))
    method = "call"
    purpose = "Check in after the night shift"
