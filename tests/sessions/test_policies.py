"""sessions.policies: each predicate and its SQL twin agree on every combination of what they
read (status × role × author × team × clinic × risk, with real rows), each rule allows what the
clinic expects, and the supervision read rule opens exactly the drafts it should."""

from __future__ import annotations

import itertools

import pytest
from django.utils import timezone

from crisisnotes.accounts.models import Team, User
from sessions.models import CrisisSession
from sessions.models.notes import NoteStatus, RiskLevel
from sessions.policies import RULES, can_supervise_draft, supervise_draft_q
from tests.factories import ClientFactory, TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

SCREEN = ["", RiskLevel.NONE, RiskLevel.LOW, RiskLevel.MODERATE, RiskLevel.HIGH]
CLINICIAN = ["", RiskLevel.LOW, RiskLevel.MODERATE, RiskLevel.HIGH]
STATUSES = [NoteStatus.DRAFT, NoteStatus.AWAITING_COSIGN, NoteStatus.SIGNED]


@pytest.fixture
def grid(clinic, other_clinic, supervisor, team, counselor):
    """One note for every risk × imminent × consult × author (supervised team, another team, no
    team, the supervisor themself) × clinic × status."""
    other_team = TeamFactory(clinic=clinic, name="Day team", supervisor=None)
    # A team of the other clinic naming our supervisor: the clinic check must hold on its own.
    foreign_team = TeamFactory(clinic=other_clinic, name="Foreign team", supervisor=supervisor)
    authors = {
        ("team", clinic.pk): counselor,
        ("other_team", clinic.pk): UserFactory(clinic=clinic, team=other_team),
        ("no_team", clinic.pk): UserFactory(clinic=clinic, team=None),
        ("self", clinic.pk): supervisor,
        ("team", other_clinic.pk): UserFactory(clinic=other_clinic, team=foreign_team),
        ("no_team", other_clinic.pk): UserFactory(clinic=other_clinic, team=None),
    }
    clients = {
        c.pk: ClientFactory.create(clinic=c, created_by=supervisor) for c in (clinic, other_clinic)
    }
    now = timezone.now()
    rows = []
    for (_where, clinic_id), author in authors.items():
        combos = itertools.product(SCREEN, CLINICIAN, [False, True], [False, True], STATUSES)
        for screen, clinician, imminent, consult, status in combos:
            signed = status != NoteStatus.DRAFT
            rows.append(
                CrisisSession(
                    clinic_id=clinic_id,
                    client=clients[clinic_id],
                    author=author,
                    modality="phone",
                    started_at=now,
                    ended_at=now if signed else None,
                    status=status,
                    screen_risk=screen,
                    clinician_risk=clinician,
                    imminent=imminent,
                    consult_requested_at=now if consult else None,
                    signed_by=author if signed else None,
                    signed_at=now if signed else None,
                    content_hash="0" * 64 if signed else "",
                )
            )
    CrisisSession.objects.bulk_create(rows)
    return CrisisSession.objects.select_related("author__team")


def _parity(user: User, notes) -> set[int]:
    allowed_sql = set(notes.filter(supervise_draft_q(user=user)).values_list("pk", flat=True))
    allowed_py = {n.pk for n in notes if can_supervise_draft(user=user, note=n)}
    assert allowed_sql == allowed_py
    return allowed_py


def test_supervision_rule_and_its_sql_twin_agree_for_every_combination(
    grid, supervisor, counselor, teammate, clinic_admin, outsider
):
    notes = list(grid)
    assert len(notes) == 6 * len(SCREEN) * len(CLINICIAN) * 2 * 2 * len(STATUSES)
    allowed = _parity(supervisor, grid)
    # Hand count: the supervised team's drafts in this clinic (1 author) whose risk, imminent
    # flag or consult request calls for it. Per author, drafts: 5 × 4 × 2 × 2 = 80; of these the
    # ones that do NOT qualify have both risks below moderate (3 screen values × 2 clinician),
    # no imminent flag and no consult: 6.
    assert len(allowed) == 80 - 6
    for note in notes:
        if note.pk in allowed:
            assert note.status == NoteStatus.DRAFT
            assert note.author_id == counselor.pk and note.clinic_id == supervisor.clinic_id
    for user in (counselor, teammate, clinic_admin, outsider):
        assert _parity(user, grid) == set()


def test_inactive_supervisor_opens_nothing(grid, supervisor):
    supervisor.is_active = False
    supervisor.save(update_fields=["is_active"])
    assert _parity(supervisor, grid) == set()


@pytest.mark.parametrize(
    ("fields", "opens"),
    [
        ({"screen_risk": RiskLevel.MODERATE}, True),
        ({"clinician_risk": RiskLevel.HIGH}, True),
        # A clinician level below the screen's: the screen still opens it to the supervisor.
        ({"screen_risk": RiskLevel.HIGH, "clinician_risk": RiskLevel.LOW}, True),
        ({"imminent": True}, True),
        ({"consult_requested_at": timezone.now()}, True),
        ({"screen_risk": RiskLevel.LOW}, False),
        ({"screen_risk": RiskLevel.NONE, "clinician_risk": RiskLevel.LOW}, False),
        ({}, False),
    ],
)
def test_supervisor_opens_a_draft_only_when_the_contact_calls_for_it(
    supervisor, counselor, fields, opens
):
    note = CrisisSession.objects.create(
        clinic=counselor.clinic,
        client=ClientFactory.create(clinic=counselor.clinic, created_by=counselor),
        author=counselor,
        modality="phone",
        started_at=timezone.now(),
        **fields,
    )
    assert can_supervise_draft(user=supervisor, note=note) is opens
    listed = CrisisSession.objects.filter(supervise_draft_q(user=supervisor), pk=note.pk)
    assert listed.exists() is opens


# --- every rule of the table, over status × role × author × team × clinic -----------------------


@pytest.fixture
def readers(clinic, other_clinic, supervisor, counselor, teammate, clinic_admin, outsider, grid):
    """Everyone a rule can meet: each role alone and combined, the author of notes in the grid
    and not, the team's supervisor and another, inactive, without a role, another clinic."""
    day_lead = UserFactory(
        clinic=clinic, is_counselor=False, is_supervisor=True, username="daylead", team=None
    )
    Team.objects.filter(clinic=clinic, name="Day team").update(supervisor=day_lead)
    inactive = UserFactory(clinic=clinic, team=None, is_supervisor=True, is_active=False)
    no_role = UserFactory(clinic=clinic, team=None, is_counselor=False)
    return {
        "supervisor+counselor (team lead, author of some)": supervisor,
        "counselor (author of some)": counselor,
        "counselor (author of none)": teammate,
        "supervisor of another team": day_lead,
        "clinic admin": clinic_admin,
        "inactive supervisor": inactive,
        "no role": no_role,
        "supervisor+admin of the other clinic": outsider,
    }


@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_rule_and_its_sql_twin_agree_for_every_combination(rule, grid, readers):
    allows, q = RULES[rule]
    notes = list(grid)
    for who, user in readers.items():
        user.refresh_from_db()
        allowed_sql = set(grid.filter(q(user=user)).values_list("pk", flat=True))
        allowed_py = {n.pk for n in notes if allows(user=user, note=n)}
        assert allowed_sql == allowed_py, who


def _count(rule: str, user: User, grid) -> dict[tuple[str, str], int]:
    """How many notes `rule` allows `user`, per (status, author kind), for hand counts."""
    counts: dict[tuple[str, str], int] = {}
    for note in grid.filter(RULES[rule].q(user=user)):
        mine = "own" if note.author_id == user.pk else "other"
        counts[note.status, mine] = counts.get((note.status, mine), 0) + 1
    return counts


PER_AUTHOR_STATUS = len(SCREEN) * len(CLINICIAN) * 2 * 2  # notes per author and status: 80


def test_the_rules_allow_what_the_clinic_expects(grid, readers, supervisor, counselor, outsider):
    n = PER_AUTHOR_STATUS
    # Open: signed notes of the clinic (4 authors), one's own, awaiting co-sign to supervisors.
    assert _count("open", counselor, grid) == {
        ("signed", "other"): 3 * n,
        ("signed", "own"): n,
        ("draft", "own"): n,
        ("awaiting_cosign", "own"): n,
    }
    assert _count("open", supervisor, grid) == {
        ("signed", "other"): 3 * n,
        ("signed", "own"): n,
        ("draft", "own"): n,
        ("awaiting_cosign", "other"): 3 * n,
        ("awaiting_cosign", "own"): n,
    }
    # Addendum: a note that left draft, one's own, or any of the clinic for a supervisor.
    assert _count("addendum", counselor, grid) == {
        ("signed", "own"): n,
        ("awaiting_cosign", "own"): n,
    }
    assert _count("addendum", readers["clinic admin"], grid) == {}
    # Review and co-sign: the supervised team's notes only, never one's own.
    assert _count("review", supervisor, grid) == {
        ("draft", "other"): n,
        ("awaiting_cosign", "other"): n,
        ("signed", "other"): n,
    }
    assert _count("cosign", supervisor, grid) == {("awaiting_cosign", "other"): n}
    assert _count("cosign", readers["supervisor of another team"], grid) == {
        ("awaiting_cosign", "other"): n
    }
    # Export: every signed note of the clinic, for any role; nothing of another clinic's.
    assert _count("export", readers["clinic admin"], grid) == {("signed", "other"): 4 * n}
    assert _count("export", outsider, grid) == {("signed", "other"): 2 * n}
    for user in (readers["inactive supervisor"], readers["no role"]):
        for rule in RULES:
            assert _count(rule, user, grid) == {}, rule
