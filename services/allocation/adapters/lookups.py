"""Allocation's read models as its handlers' port (application/ports.py): a worker's holds in
other programmes for the one-payer rule, and forgetting a person.

Two transactions could seat the same worker in two programmes at once (a promotion here, a
validation there): the streams differ, so optimistic concurrency on the programme stream does not
see it. Before reading a worker's holds, the transaction therefore takes a transaction-scoped
advisory lock on the worker, without waiting: when another transaction holds it, this one raises
`WorkerBusy` (a ConcurrencyError), is rolled back and retried by the consumer. Not waiting means
no deadlock between two batches locking workers in different orders.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from sqlalchemy import and_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.ports import StoreTransaction
from services.allocation.adapters.projections import scrub_person
from services.allocation.adapters.tables import assignments, programmes
from services.allocation.domain.cross_programme import ProgrammeHold
from services.allocation.domain.period import Period
from services.allocation.domain.programme_commands import WorkerHolds
from services.allocation.domain.quota_wire import nominated_at

# Every worker of a run in one statement, in the order of the keys given (unnest keeps it).
_KEY = "allocation-worker:"
_LOCKS = text(
    "SELECT key, pg_try_advisory_xact_lock(hashtextextended(key, 0)) AS locked"
    " FROM unnest(CAST(:keys AS text[])) AS key"
)


class WorkerBusy(ConcurrencyError):
    """Another transaction is deciding about the same worker: roll back and try again."""

    def __init__(self, worker_id: str) -> None:
        Exception.__init__(self, f"worker {worker_id} is being decided by another transaction")
        self.aggregate_id = f"worker-{worker_id}"
        self.expected_version = None
        self.actual_version = -1


def connection_of(tx: StoreTransaction) -> AsyncConnection:
    """The SQL connection of a PostgreSQL store transaction (or of a cache over one)."""
    conn = getattr(tx, "conn", None)
    if not isinstance(conn, AsyncConnection):
        raise TypeError(f"{type(tx).__name__} is not a transaction of a PostgreSQL store")
    return conn


class SqlReadModels:
    """The ReadModels port over allocation's tables."""

    async def holds_of(
        self, tx: StoreTransaction, workers: Mapping[str, int | None], except_programme: str
    ) -> dict[str, WorkerHolds]:
        conn = connection_of(tx)
        await lock_workers(conn, workers)
        found: dict[str, list[ProgrammeHold]] = {w: [] for w in workers}
        if workers:
            for worker_id, hold in await _holds(conn, list(workers), except_programme):
                found[worker_id].append(hold)
        return {w: WorkerHolds(seq, tuple(found[w])) for w, seq in workers.items()}

    async def forget_person(self, tx: StoreTransaction, worker_id: str) -> None:
        await scrub_person(connection_of(tx), worker_id)


async def lock_workers(conn: AsyncConnection, worker_ids: Iterable[str]) -> None:
    """Hold each worker's advisory lock until the transaction ends (one statement, in worker id
    order); WorkerBusy when another transaction holds one of them (the locks taken are released
    when this transaction rolls back)."""
    keys = [f"{_KEY}{w}" for w in sorted(set(worker_ids))]
    if not keys:
        return
    for row in await conn.execute(_LOCKS, {"keys": keys}):
        if not row.locked:
            raise WorkerBusy(row.key.removeprefix(_KEY))


async def _holds(
    conn: AsyncConnection, worker_ids: list[str], except_programme: str
) -> list[tuple[str, ProgrammeHold]]:
    """Seats and waitlist places in other programmes (a seat is final when decreed or no decree
    is required; a waitlist place holds nothing, see cross_programme.py)."""
    rows = await conn.execute(
        select(
            assignments.c.worker_id,
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
                assignments.c.worker_id.in_(worker_ids),
                assignments.c.status.in_(("assigned", "waitlisted")),
                assignments.c.programme_code != except_programme,
            )
        )
    )
    return [
        (
            r.worker_id,
            ProgrammeHold(
                programme_code=r.programme_code,
                period=Period(r.coverage_start, r.coverage_end),
                nominated_at=nominated_at(r.nomination_seq),
                final=r.status == "assigned" and (r.decreed_in is not None or not r.requires_decree),
                waiting=r.status == "waitlisted",
            ),
        )
        for r in rows
    ]
