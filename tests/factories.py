"""factory-boy factories. Every name is invented (Faker's en_US provider, fixed seed)."""

from __future__ import annotations

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
