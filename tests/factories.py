"""factory-boy factories. Every name is invented (Faker's en_US provider, fixed seed)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import factory
from django.utils import timezone

from crisisnotes.accounts.models import Clinic, Team, User
from sessions.models import Client, CrisisSession, ReviewComment
from sessions.models.notes import Modality, NoteStatus, RiskLevel

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


class CrisisSessionFactory(factory.django.DjangoModelFactory[CrisisSession]):
    """A bare draft note row. Tests that need the stage rows create notes through the service
    (sessions.services.notes.note_create), which is what the app does."""

    class Meta:
        model = CrisisSession

    clinic = factory.SubFactory(ClinicFactory)
    client = factory.SubFactory(ClientFactory, clinic=factory.SelfAttribute("..clinic"))
    author = factory.SubFactory(UserFactory, clinic=factory.SelfAttribute("..clinic"))
    modality = Modality.PHONE
    started_at = factory.LazyFunction(timezone.now)


# What a filled record says in its stages (the signed trait), the exploration's event aside.
STAGE_TEXT: dict[str, dict[str, Any]] = {
    "exploration": {"precipitating_event": "Lost the night-shift job on Friday"},
    "rapport": {"engagement_notes": "Talked openly after a while"},
    "problem_solving": {"interventions": "Grounding, reframing", "action_plan": "Call sister"},
    "follow_up": {"followup_plan": "Call back tomorrow morning", "crisis_numbers_given": True},
}

# The columns a signature sets: the note is inserted as a draft (so its stage rows may be
# added, as the database allows only for drafts) and moved to them afterwards.
_SIGNATURE = (
    "status",
    "ended_at",
    "signed_by",
    "signed_at",
    "signer_name",
    "signer_credential",
    "signer_licence",
    "cosign_required_reason",
    "content_hash",
    "confidentiality_explained",
    "screen_risk",
    "clinician_risk",
)


def _signed_at(note: Any) -> Any:
    """When a `signed` or `awaiting_cosign` note was signed: `sign_delay` after it ended, or now."""
    if note.sign_delay is None:
        return timezone.now()
    return note.ended_at + note.sign_delay


class NoteFactory(CrisisSessionFactory):
    """A note as the app leaves it: a draft with every registered section's rows (what
    note_create makes), or, with a trait, a record moved on from there:

    - `signed`: started two hours ago, ended 40 minutes later, stages filled (`event` is the
      precipitating event), signed by its author with the real content hash: the record verifies;
    - `awaiting_cosign`: signed by its author and waiting for a supervisor (reason: a trainee);
    - `high_risk`: screen and clinician risk high;
    - `returned`: a supervisor sent it back once with a comment (`returned_with`, round 1).

    `minutes` sets how long the contact lasted (ended_at; the `signed` trait's is 40) and
    `sign_delay` how long after its end it was signed (signed_at; otherwise now), for the
    figures that measure time to signature.

    `before_signing(draft)` adds rows the record holds (follow-up tasks...) while it is a draft:
    the database refuses them once the note is signed, as it refuses them to the app. The client
    is created by the author (one user fewer to hash a password for)."""

    class Params:
        filled = False
        event = "Lost the night-shift job on Friday"
        minutes: int | None = None
        sign_delay: timedelta | None = None
        returned_with = ""
        signed = factory.Trait(
            status=NoteStatus.SIGNED,
            filled=True,
            started_at=factory.LazyFunction(lambda: timezone.now() - timedelta(hours=2)),
            minutes=40,
            confidentiality_explained=True,
            signed_by=factory.SelfAttribute("author"),
            signed_at=factory.LazyAttribute(_signed_at),
        )
        awaiting_cosign = factory.Trait(
            status=NoteStatus.AWAITING_COSIGN,
            signed_by=factory.SelfAttribute("author"),
            signed_at=factory.LazyAttribute(_signed_at),
            cosign_required_reason="The author is a trainee.",
        )
        high_risk = factory.Trait(screen_risk=RiskLevel.HIGH, clinician_risk=RiskLevel.HIGH)
        returned = factory.Trait(
            cosign_required_reason="The author is a trainee.", returned_with="Add SUDS"
        )

    clinic = factory.SelfAttribute("author.clinic")
    author = factory.SubFactory(UserFactory)
    client = factory.SubFactory(
        ClientFactory,
        clinic=factory.SelfAttribute("..clinic"),
        created_by=factory.SelfAttribute("..author"),
    )
    stage_text = factory.LazyAttribute(
        lambda n: (
            {**STAGE_TEXT, "exploration": {"precipitating_event": n.event}} if n.filled else {}
        )
    )
    ended_at = factory.LazyAttribute(
        lambda n: None if n.minutes is None else n.started_at + timedelta(minutes=n.minutes)
    )
    before_signing = None
    returned_comment = factory.SelfAttribute("returned_with")

    @classmethod
    def _create(cls, model_class: type[CrisisSession], *args: Any, **kwargs: Any) -> CrisisSession:
        from sessions.hashing import note_content_hash
        from sessions.registry import sections

        stage_text = kwargs.pop("stage_text")
        before_signing = kwargs.pop("before_signing")
        returned_comment = kwargs.pop("returned_comment")
        final = {name: kwargs.pop(name) for name in _SIGNATURE if name in kwargs}
        note = super()._create(model_class, *args, **kwargs)
        for section in sections():
            section.create_rows(note=note)
        for key, values in stage_text.items():
            model = next((s.model for s in sections() if s.key == key), None)
            if model is not None:
                model._default_manager.filter(session=note).update(**values)
        if before_signing is not None:
            before_signing(CrisisSession.objects.get(pk=note.pk))
        if returned_comment:
            ReviewComment.objects.create(
                session=note,
                author=note.author,
                author_name="Reviewer",
                text=returned_comment,
                round=1,
            )
        if final.get("status", NoteStatus.DRAFT) == NoteStatus.DRAFT:
            if final:
                CrisisSession.objects.filter(pk=note.pk).update(**final)
            return CrisisSession.objects.get(pk=note.pk)
        signer = final.get("signed_by")
        if signer is not None:
            final.setdefault("signer_name", signer.display_name)
            final.setdefault("signer_credential", signer.credential)
            final.setdefault("signer_licence", signer.licence_number)
        if "content_hash" not in final:
            # The real hash of the stored content, as note_sign computes it: the record verifies.
            signing = CrisisSession.objects.get(pk=note.pk)
            for name, value in final.items():
                setattr(signing, name, value)
            final["content_hash"] = note_content_hash(signing)
        CrisisSession.objects.filter(pk=note.pk).update(**final)
        return CrisisSession.objects.get(pk=note.pk)


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
