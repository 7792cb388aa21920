"""The invented dataset of issue 15: at `--scale 1`, 10,000 clients, 100,000 sessions with their
stage rows, 100,000 follow-ups and 1,000,000 audit rows in one clinic (plus a small second clinic
the scoping must filter out). Everything is made up.

Rows go in with bulk inserts in batches. Signed notes are sealed by database triggers (no later
INSERT or UPDATE of a signed note's rows), so each batch is inserted as drafts, then its stage
rows, then one UPDATE marks the batch signed with its final values — the one transition the
triggers allow — exactly the order the app follows.

Run on its own: DATABASE_URL=postgres://.../cn_bench .venv/bin/python bench/dataset.py --scale 0.01
(the database must be migrated; a database that already holds the bench clinic is left alone).
`bench/pages_bench.py` calls `ensure_dataset()` itself.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crisisnotes.settings")
os.environ.setdefault("DJANGO_ENV", "test")
os.environ.setdefault("EMAIL_URL", "dummymail://")

BENCH_SLUG = "pages-bench"
BENCH_PASSWORD = "bench-password-not-secret-7"  # noqa: S105 — invented users of a throwaway database
# The bench users administer the clinic, so two-factor sign-in is required of them: each gets an
# authenticator app with this (invented, base32) secret, and the pages bench types its codes.
BENCH_TOTP_SECRET = "JBSWY3DPEHPK3PXPBENCHTOTPSECRET2"  # noqa: S105 — same
BATCH = 5_000
COUNSELORS = 40
BENCH_USERS = 20  # the logged-in bench clients: counselors who also supervise and administer
HEAVY_CLIENT_SESSIONS = 60  # "a client with 50+ sessions"
DRAFTS_PER_BENCH_USER = 3


@dataclass
class Dataset:
    clinic_id: int
    usernames: list[str]
    heavy_client_id: int
    drafts: dict[str, int]  # username -> one draft note of theirs (opened and autosaved)
    floor_client_id: int


def _counts(scale: float) -> dict[str, int]:
    return {
        "clients": max(200, int(10_000 * scale)),
        "sessions": max(1_000, int(100_000 * scale)),
        "followups": max(1_000, int(100_000 * scale)),
        "audit": max(10_000, int(1_000_000 * scale)),
    }


def ensure_dataset(*, scale: float, out=print) -> Dataset:
    """The bench dataset in the current database: built if absent, else described."""
    from crisisnotes.accounts.models import Clinic

    clinic = Clinic.objects.filter(slug=BENCH_SLUG).first()
    if clinic is None:
        build(scale=scale, out=out)
        clinic = Clinic.objects.get(slug=BENCH_SLUG)
    else:
        out("dataset: reusing the bench clinic already in this database")
    _set_passwords(clinic_id=clinic.pk)
    _set_authenticators(clinic_id=clinic.pk)
    return describe(clinic_id=clinic.pk)


def _set_passwords(*, clinic_id: int) -> None:
    """The bench users' password hashed with a hasher production accepts (the test settings
    hash with MD5, which production refuses), one hash for all: PBKDF2 costs the same for each."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    from crisisnotes.accounts.models import User

    hasher = PBKDF2PasswordHasher()
    hashed = hasher.encode(BENCH_PASSWORD, hasher.salt())
    algorithm = f"{hasher.algorithm}$"
    User.objects.filter(clinic_id=clinic_id).exclude(password__startswith=algorithm).update(
        password=hashed
    )


def _set_authenticators(*, clinic_id: int) -> None:
    """An authenticator app (TOTP, BENCH_TOTP_SECRET) for each bench user that has none."""
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import TOTP

    from crisisnotes.accounts.models import User

    for user in User.objects.filter(
        clinic_id=clinic_id, username__in=[f"bench{n:02d}" for n in range(1, BENCH_USERS + 1)]
    ).exclude(authenticator__type=Authenticator.Type.TOTP):
        TOTP.activate(user, BENCH_TOTP_SECRET)


def bench_totp_code() -> str:
    """The current code of BENCH_TOTP_SECRET, as the authenticator app would show it."""
    import time

    from allauth.mfa import app_settings
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(
        hotp_value(BENCH_TOTP_SECRET, int(time.time()) // app_settings.TOTP_PERIOD)
    )


def describe(*, clinic_id: int) -> Dataset:
    from django.db.models import Count

    from crisisnotes.accounts.models import User
    from sessions.models import Client, CrisisSession
    from sessions.models.notes import NoteStatus

    usernames = [f"bench{n:02d}" for n in range(1, BENCH_USERS + 1)]
    heavy = (
        Client.objects.filter(clinic_id=clinic_id)
        .annotate(n=Count("sessions"))
        .filter(n__gte=50)
        .order_by("-n")
        .values_list("pk", flat=True)
        .first()
    )
    assert heavy is not None, "no client with 50+ sessions"
    drafts: dict[str, int] = {}
    for user in User.objects.filter(username__in=usernames):
        draft = (
            CrisisSession.objects.filter(author=user, status=NoteStatus.DRAFT)
            .order_by("pk")
            .values_list("pk", flat=True)
            .first()
        )
        assert draft is not None, f"{user.username} has no draft"
        drafts[user.username] = draft
    floor_client = (
        Client.objects.filter(clinic_id=clinic_id)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )
    assert floor_client is not None
    return Dataset(
        clinic_id=clinic_id,
        usernames=usernames,
        heavy_client_id=heavy,
        drafts=drafts,
        floor_client_id=floor_client,
    )


def _stage_models():
    """Every one-to-one stage model a note has one row of (from the section registry)."""
    from sessions.models import CrisisSession
    from sessions.services.notes import section_relations

    return [CrisisSession._meta.get_field(rel).related_model for rel in section_relations()]


def _followup(rng, now, note, methods, outcomes):
    from sessions.models import FollowUpTask

    # Most follow-ups are past and done; about 250 stay open per counselor at full scale (the
    # measured network had 171): a few overdue, the rest due within the week.
    if rng.random() < 0.92:
        due = now - timedelta(minutes=rng.randrange(60, 365 * 24 * 60))
        closed = rng.random() < 0.98
    else:
        due = now + timedelta(minutes=rng.randrange(10, 7 * 24 * 60))
        closed = False
    return FollowUpTask(
        clinic_id=note.clinic_id,
        session_id=note.pk,
        client_id=note.client_id,
        assigned_to_id=note.author_id,
        created_by_id=note.author_id,
        due_at=due,
        method=rng.choice(methods),
        purpose="Check in after the call",
        outcome=rng.choice(outcomes) if closed else "",
        closed_at=due + timedelta(hours=2) if closed else None,
        closed_by_id=note.author_id if closed else None,
    )


def build(*, scale: float, seed: int = 15, out=print) -> None:
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from crisisnotes.accounts.models import Clinic, Team, User
    from sessions.models import Client, CrisisSession, FollowUpTask
    from sessions.models.followups import FollowUpMethod, FollowUpOutcome
    from sessions.models.notes import Modality, NoteStatus, RiskLevel

    counts = _counts(scale)
    rng = random.Random(seed)
    now = timezone.now().replace(microsecond=0)
    started = time.perf_counter()
    out(
        f"dataset: building at scale {scale}: " + ", ".join(f"{v:,} {k}" for k, v in counts.items())
    )

    with transaction.atomic():
        clinic = Clinic.objects.create(
            name="Pages Bench Crisis Line",
            slug=BENCH_SLUG,
            crisis_line_name="Bench Crisis Line",
            crisis_line_phone="555-010-0000",
        )
        other = Clinic.objects.create(
            name="Other Bench Clinic",
            slug=BENCH_SLUG + "-other",
            crisis_line_name="Other Line",
            crisis_line_phone="555-010-0001",
        )
        teams = [Team.objects.create(clinic=clinic, name=f"Bench team {n}") for n in range(4)]
        password = make_password(BENCH_PASSWORD)
        users = []
        for n in range(1, COUNSELORS + 1):
            bench = n <= BENCH_USERS
            users.append(
                User(
                    clinic=clinic,
                    team=teams[n % len(teams)],
                    username=f"bench{n:02d}" if bench else f"counselor{n:02d}",
                    full_name=f"Invented Counselor {n:02d}",
                    email=f"bench{n:02d}@example.invalid",
                    credential="LPC",
                    licence_number=f"LPC-B{n:04d}",
                    is_counselor=True,
                    is_supervisor=bench,
                    is_clinic_admin=bench,
                    password=password,
                )
            )
        User.objects.bulk_create(users)
        users = list(User.objects.filter(clinic=clinic).order_by("username"))
        by_name = {u.username: u for u in users}
        for n, team in enumerate(teams):
            team.supervisor = by_name[f"bench{n + 1:02d}"]
            team.save(update_fields=["supervisor"])
        stranger = User.objects.create(
            clinic=other,
            username="bench-outsider",
            full_name="Invented Outsider",
            is_counselor=True,
            password=password,
        )

        Client.objects.bulk_create(
            [
                Client(
                    clinic=clinic,
                    alias=f"Caller {n}, {rng.choice(['night', 'text line', 'returning'])}",
                    name=rng.choice(["", "", f"Jordan Madeup {n}", f"Casey Sample {n}"]),
                    phone=f"555-01{n % 100:02d}-{n % 10000:04d}" if n % 3 == 0 else "",
                    created_by=rng.choice(users),
                )
                for n in range(counts["clients"])
            ],
            batch_size=BATCH,
        )
        Client.objects.create(clinic=other, alias="Other clinic caller", created_by=stranger)
    client_ids = list(Client.objects.filter(clinic=clinic).values_list("pk", flat=True))
    heavy_client = client_ids[0]
    out(f"dataset: users and {len(client_ids):,} clients in {time.perf_counter() - started:.1f} s")

    stage_models = _stage_models()
    modalities = [m for m, _ in Modality.choices]
    bench_users = users[:BENCH_USERS]
    plan: list[tuple[int, int, str]] = []  # (client, author, status)
    for user in bench_users:
        for _ in range(DRAFTS_PER_BENCH_USER):
            plan.append((rng.choice(client_ids), user.pk, NoteStatus.DRAFT))
    for _ in range(HEAVY_CLIENT_SESSIONS):
        plan.append((heavy_client, rng.choice(users).pk, NoteStatus.SIGNED))
    while len(plan) < counts["sessions"]:
        status = NoteStatus.AWAITING_COSIGN if rng.random() < 0.03 else NoteStatus.SIGNED
        plan.append((rng.choice(client_ids), rng.choice(users).pk, status))

    methods = [m for m, _ in FollowUpMethod.choices]
    outcomes = [o for o, _ in FollowUpOutcome.choices]
    followups = 0
    t0 = time.perf_counter()
    for offset in range(0, len(plan), BATCH):
        chunk = plan[offset : offset + BATCH]
        with transaction.atomic():
            notes = []
            for client_id, author_id, planned in chunk:
                start = now - timedelta(minutes=rng.randrange(60, 365 * 24 * 60))
                notes.append(
                    CrisisSession(
                        clinic=clinic,
                        client_id=client_id,
                        author_id=author_id,
                        modality=rng.choice(modalities),
                        started_at=start,
                        ended_at=None
                        if planned == NoteStatus.DRAFT
                        else start + timedelta(minutes=35),
                        confidentiality_explained=True,
                        screen_risk=rng.choice([RiskLevel.LOW, RiskLevel.LOW, RiskLevel.MODERATE]),
                    )
                )
            CrisisSession.objects.bulk_create(notes)
            for model in stage_models:
                model.objects.bulk_create([model(session=note) for note in notes])
            # Follow-ups too, while their notes are still drafts (a signed note takes none).
            due_here = counts["followups"] * (offset + len(chunk)) // len(plan) - followups
            sealed = [
                n for n, (_, _, st) in zip(notes, chunk, strict=True) if st != NoteStatus.DRAFT
            ]
            FollowUpTask.objects.bulk_create(
                [
                    _followup(rng, now, rng.choice(sealed), methods, outcomes)
                    for _ in range(due_here)
                ]
            )
            followups += due_here
            # Seal the batch: the draft → final transition the triggers allow, children first.
            final = {
                s: [n.pk for n, (_, _, st) in zip(notes, chunk, strict=True) if st == s]
                for s in (NoteStatus.SIGNED, NoteStatus.AWAITING_COSIGN)
            }
            with connection.cursor() as cursor:
                for status, ids in final.items():
                    if not ids:
                        continue
                    cursor.execute(
                        """
                        UPDATE crisis_sessions_crisissession
                        SET status = %s, signed_by_id = author_id, signed_at = ended_at,
                            signer_name = 'Invented Counselor', signer_credential = 'LPC',
                            content_hash = md5(id::text) || md5(author_id::text),
                            clinician_risk = screen_risk,
                            cosign_required_reason = CASE WHEN %s THEN 'trainee' ELSE '' END
                        WHERE id = ANY(%s)
                        """,
                        [status, status == NoteStatus.AWAITING_COSIGN, ids],
                    )
    out(
        f"dataset: {len(plan):,} sessions with {len(stage_models)} stage rows each and "
        f"{followups:,} follow-ups in "
        f"{time.perf_counter() - t0:.1f} s"
    )

    # Audit rows in SQL batches (created_at is auto_now_add in the ORM; here it is spread over a
    # year). One in ten belongs to the other clinic. The log is append-only: INSERT only.
    t0 = time.perf_counter()
    user_ids = [u.pk for u in users]
    with connection.cursor() as cursor:
        done = 0
        while done < counts["audit"]:
            size = min(100_000, counts["audit"] - done)
            cursor.execute(
                """
                INSERT INTO audit_auditevent (created_at, actor_id, actor_username, clinic_id,
                    client_id, action, object_type, object_id, summary, ip_address, user_agent)
                SELECT %(now)s - random() * interval '365 days',
                       u.id, u.username,
                       CASE WHEN random() < 0.9 THEN %(clinic)s ELSE %(other)s END,
                       c.id,
                       (ARRAY['view','view','view','view','view','view','update','export',
                              'download','sign'])[1 + floor(random() * 10)::int],
                       'crisis_sessions.client', c.id::text, 'bench', '10.0.0.1', 'bench'
                FROM generate_series(1, %(size)s) g
                CROSS JOIN LATERAL (
                    SELECT
                      (%(users)s::bigint[])[1 + floor(random() * %(nusers)s)::int + g * 0] AS uid,
                      (%(clients)s::bigint[])[1 + floor(random() * %(nclients)s)::int + g * 0]
                        AS cid
                ) pick
                JOIN accounts_user u ON u.id = pick.uid
                JOIN crisis_sessions_client c ON c.id = pick.cid
                """,
                {
                    "now": now,
                    "clinic": clinic.pk,
                    "other": other.pk,
                    "size": size,
                    "users": user_ids,
                    "nusers": len(user_ids),
                    "clients": client_ids,
                    "nclients": len(client_ids),
                },
            )
            done += size
        out(f"dataset: {done:,} audit rows in {time.perf_counter() - t0:.1f} s")
        # VACUUM as well as ANALYZE: production's autovacuum sets the visibility map that
        # index-only scans need (the team page's reads, docs/scaling.md); this machine's
        # PostgreSQL runs with autovacuum off, so a freshly built dataset would have none.
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size_text = cursor.fetchone()[0]
    out(f"dataset: built in {time.perf_counter() - started:.0f} s; database size {size_text}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full dataset")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("Set DATABASE_URL to a migrated PostgreSQL database of its own.")
    import django

    django.setup()
    data = ensure_dataset(scale=args.scale)
    print(data)


if __name__ == "__main__":
    main()
