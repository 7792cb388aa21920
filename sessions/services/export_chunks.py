"""The claims behind a parallel export job: its records are split into ExportChunk rows that any
worker claims with `SELECT … FOR UPDATE SKIP LOCKED`, and the ZIP is assembled once every chunk
is done, by exactly one runner.

Only row locks inside short transactions and conditional UPDATEs: nothing here outlives a
transaction, so it works behind a transaction-pooling PgBouncer (a session-level advisory lock
would be held by whichever client the pooler hands the server connection to next). On SQLite,
the embedded default, SKIP LOCKED is ignored; the UPDATE that takes a claim is still guarded by
the token it read, so two runners never both take one chunk.

A claim is a token and a heartbeat. The holder refreshes the heartbeat after every record; a
heartbeat older than EXPORT_STALL_SECONDS means its worker died or hangs, and the next runner
that looks takes the chunk over. The stale holder may still be alive: every write it makes is
guarded by its token, so once superseded its results are dropped, and each record is counted
once. Times are the application's clock (timezone.now()), not the database's.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from sessions.models import ExportChunk, ExportJob
from sessions.models.exports import ExportStatus

# A chunk is small enough that two workers finish a job within a few records of each other (the
# last chunk's tail is time one worker sits idle), and large enough that claiming it (two short
# statements) costs little next to rendering its PDFs.
MAX_CHUNK = 10


def stall_after() -> timedelta:
    return timedelta(seconds=settings.EXPORT_STALL_SECONDS)


def chunk_size(*, records: int, parallel: int) -> int:
    """About eight chunks per parallel task, at most MAX_CHUNK records each."""
    return max(1, min(MAX_CHUNK, -(-records // (8 * max(1, parallel)))))


@transaction.atomic
def export_job_plan(*, job_id: int) -> tuple[ExportJob, bool]:
    """Mark the job running and split it into chunks, once. Returns the job and whether this
    call created the chunks (then the caller fans the job out to more runners). The job row's
    lock makes two first deliveries plan it once."""
    job = (
        ExportJob.objects.select_for_update(of=("self",))  # not the clinic's or user's row
        .select_related("requested_by", "clinic")
        .get(pk=job_id)
    )
    if job.is_finished:
        return job, False
    now = timezone.now()
    created = False
    if not ExportChunk.objects.filter(job=job).exists():
        ids = list(job.record_ids)
        size = chunk_size(records=len(ids), parallel=settings.EXPORT_PARALLEL_TASKS)
        ExportChunk.objects.bulk_create(
            ExportChunk(job=job, index=n, record_ids=ids[start : start + size])
            for n, start in enumerate(range(0, len(ids), size))
        )
        created = True
    if job.status != ExportStatus.RUNNING:
        job.status = ExportStatus.RUNNING
        job.started_at = job.started_at or now
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.RUNNING, started_at=job.started_at, updated_at=now
        )
    return job, created


@dataclass(frozen=True)
class Claim:
    job_id: int
    chunk_id: int
    index: int
    record_ids: list[int]
    token: str
    # Records the previous holder finished: progress never goes backwards on a take-over.
    done_count: int


def chunk_claim(*, job_id: int, runner: str, now: datetime | None = None) -> Claim | None:
    """Take the first chunk of the job that nobody holds, whose holder stalled, or that an
    earlier delivery of this same runner held (it died: a message is re-delivered only then).
    None when there is none to take right now."""
    now = now or timezone.now()
    with transaction.atomic():
        chunk = (
            ExportChunk.objects.select_for_update(skip_locked=True)
            .filter(job_id=job_id, done_at__isnull=True)
            .filter(
                Q(heartbeat_at__isnull=True)
                | Q(heartbeat_at__lt=now - stall_after())
                | Q(claimed_by=runner)
            )
            .order_by("index")
            .first()
        )
        if chunk is None:
            return None
        token = uuid.uuid4().hex
        taken = ExportChunk.objects.filter(
            pk=chunk.pk, claim_token=chunk.claim_token, done_at__isnull=True
        ).update(
            claim_token=token,
            claimed_by=runner,
            claimed_at=now,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
        )
        if not taken:  # SQLite: another runner took it between our read and our write
            return None
        ExportJob.objects.filter(pk=job_id).update(progressed_at=now, updated_at=now)
    return Claim(
        job_id=job_id,
        chunk_id=chunk.pk,
        index=chunk.index,
        record_ids=list(chunk.record_ids),
        token=token,
        done_count=chunk.done_count,
    )


def _job_progress(job_id: int) -> Any:
    return Coalesce(
        Subquery(
            ExportChunk.objects.filter(job_id=job_id)
            .values("job_id")
            .annotate(total=Sum("done_count"))
            .values("total")[:1]
        ),
        0,
    )


def chunk_heartbeat(*, claim: Claim, done: int) -> bool:
    """`done` records of the claimed chunk are finished: refresh the heartbeat and the job's
    progress (the sum over its chunks, so a taken-over chunk is not counted twice). False when
    the claim was taken over: the caller stops working on the chunk."""
    now = timezone.now()
    with transaction.atomic():
        alive = ExportChunk.objects.filter(
            pk=claim.chunk_id, claim_token=claim.token, done_at__isnull=True
        ).update(heartbeat_at=now, done_count=Greatest(F("done_count"), done))
        if alive:
            ExportJob.objects.filter(pk=claim.job_id).update(
                progress_done=_job_progress(claim.job_id), progressed_at=now, updated_at=now
            )
    return bool(alive)


def chunk_complete(
    *, claim: Claim, rows: list[dict[str, Any]], failures: list[dict[str, Any]]
) -> bool:
    """Record the chunk's results, if the claim is still ours. The job's failures are
    rebuilt from its done chunks, in record order, under the job row's lock (two chunks
    finishing at once never lose each other's failures)."""
    now = timezone.now()
    with transaction.atomic():
        done = ExportChunk.objects.filter(
            pk=claim.chunk_id, claim_token=claim.token, done_at__isnull=True
        ).update(
            done_at=now,
            heartbeat_at=now,
            done_count=len(claim.record_ids),
            rows=rows,
            failures=failures,
        )
        if not done:
            return False
        job_id = claim.job_id
        # Serialise the rebuild of job.failures with other chunks finishing now.
        list(ExportJob.objects.select_for_update().filter(pk=job_id).values_list("pk", flat=True))
        all_failures = [
            failure
            for chunk_failures in ExportChunk.objects.filter(job_id=job_id, done_at__isnull=False)
            .order_by("index")
            .values_list("failures", flat=True)
            for failure in chunk_failures
        ]
        ExportJob.objects.filter(pk=job_id).update(
            progress_done=_job_progress(job_id),
            failures=all_failures,
            progressed_at=now,
            updated_at=now,
        )
    return True


def assembly_claim(*, job_id: int, runner: str, now: datetime | None = None) -> str | None:
    """Take the right to assemble the job: it is running, every chunk is done, and nobody
    holds the assembly (or its holder stalled, or was an earlier delivery of this runner).
    One conditional UPDATE: of two runners finishing the last chunks at once, the one whose
    chunk committed last sees every chunk done; if both do, PostgreSQL re-checks the claim
    columns on the row the other just updated, so exactly one gets it. Returns the token."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    taken = (
        ExportJob.objects.filter(pk=job_id, status=ExportStatus.RUNNING)
        .filter(~Exists(ExportChunk.objects.filter(job_id=OuterRef("pk"), done_at__isnull=True)))
        .filter(
            Q(assembly_token="")
            | Q(assembly_heartbeat_at__lt=now - stall_after())
            | Q(assembly_by=runner)
        )
        .update(
            assembly_token=token,
            assembly_by=runner,
            assembly_heartbeat_at=now,
            progressed_at=now,
            updated_at=now,
        )
    )
    return token if taken else None


def assembly_heartbeat(*, job_id: int, token: str) -> bool:
    now = timezone.now()
    return bool(
        ExportJob.objects.filter(pk=job_id, assembly_token=token).update(
            assembly_heartbeat_at=now, progressed_at=now, updated_at=now
        )
    )


def job_chunks_done(*, job_id: int) -> list[ExportChunk]:
    """The job's chunks in record order, with their rows (for the assembler)."""
    return list(ExportChunk.objects.filter(job_id=job_id, done_at__isnull=False).order_by("index"))


def job_has_unfinished_work(*, job_id: int) -> bool:
    return ExportJob.objects.filter(
        pk=job_id, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]
    ).exists()
