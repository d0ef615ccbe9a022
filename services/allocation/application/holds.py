"""A worker's holds in other programmes, read for the one-payer rule (domain/cross_programme.py).

Two transactions could seat the same worker in two programmes at once (a promotion here, a
validation there): the streams differ, so optimistic concurrency on the programme stream does not
see it. Before reading a worker's holds, the transaction therefore takes a transaction-scoped
advisory lock on the worker, without waiting: when another transaction holds it, this one raises
`WorkerBusy` (a ConcurrencyError), is rolled back and retried by the consumer. Not waiting means
no deadlock between two batches locking workers in different orders.
"""

from __future__ import annotations

from sqlalchemy import and_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.eventstore.errors import ConcurrencyError
from services.allocation.adapters.tables import assignments, programmes
from services.allocation.application.programmes import ProgrammeFacts
from services.allocation.application.quota_stream import nominated_at
from services.allocation.domain.cross_programme import (
    CrossProgrammeVerdict,
    ProgrammeHold,
    check_cross_programme,
)
from services.allocation.domain.period import Period

_LOCK = text("SELECT pg_try_advisory_xact_lock(hashtextextended(:key, 0))")


class WorkerBusy(ConcurrencyError):
    """Another transaction is deciding about the same worker: roll back and try again."""

    def __init__(self, worker_id: str) -> None:
        Exception.__init__(self, f"worker {worker_id} is being decided by another transaction")
        self.aggregate_id = f"worker-{worker_id}"
        self.expected_version = None
        self.actual_version = -1


async def lock_worker(conn: AsyncConnection, worker_id: str) -> None:
    """Hold the worker's advisory lock until the transaction ends; WorkerBusy when taken."""
    locked = (await conn.execute(_LOCK, {"key": f"allocation-worker:{worker_id}"})).scalar_one()
    if not locked:
        raise WorkerBusy(worker_id)


async def holds_of(conn: AsyncConnection, worker_id: str, except_programme: str) -> list[ProgrammeHold]:
    """The worker's seats and waitlist places in other programmes (a seat is final when decreed
    or no decree is required; a waitlist place holds nothing, see cross_programme.py)."""
    rows = await conn.execute(
        select(
            assignments.c.programme_code,
            assignments.c.status,
            assignments.c.nomination_seq,
            assignments.c.decreed_in,
            programmes.c.coverage_start,
            programmes.c.coverage_end,
            programmes.c.requires_decree,
        )
        .join(programmes, programmes.c.programme_code == assignments.c.programme_code)
        .where(
            and_(
                assignments.c.worker_id == worker_id,
                assignments.c.status.in_(("assigned", "waitlisted")),
                assignments.c.programme_code != except_programme,
            )
        )
    )
    return [
        ProgrammeHold(
            programme_code=r.programme_code,
            period=Period(r.coverage_start, r.coverage_end),
            nominated_at=nominated_at(r.nomination_seq),
            final=r.status == "assigned" and (r.decreed_in is not None or not r.requires_decree),
            waiting=r.status == "waitlisted",
        )
        for r in rows
    ]


async def verdict_for(
    conn: AsyncConnection, worker_id: str, programme: ProgrammeFacts, seq: int | None
) -> CrossProgrammeVerdict:
    """May `programme` seat the worker (nominated at `seq`)? Locks the worker first."""
    await lock_worker(conn, worker_id)
    existing = await holds_of(conn, worker_id, programme.code)
    if not existing:
        return CrossProgrammeVerdict(allowed=True)
    candidate = ProgrammeHold(programme.code, programme.period, nominated_at(seq))
    return check_cross_programme(existing, candidate)


async def is_final_hold(conn: AsyncConnection, worker_id: str, programme: ProgrammeFacts) -> bool:
    """True when the worker's seat in `programme` is fixed (decreed, or no decree required)."""
    if not programme.requires_decree:
        return True
    decreed = (
        await conn.execute(
            select(assignments.c.decreed_in).where(
                assignments.c.programme_code == programme.code,
                assignments.c.worker_id == worker_id,
                assignments.c.status == "assigned",
            )
        )
    ).scalar_one_or_none()
    return decreed is not None
