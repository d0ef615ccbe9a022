"""What BPJS's answers (and the clock) did, per programme: a durable read model behind
GET /enrollments/stats "answers".

Each count is written in the transaction that decided the outcome (a redelivered answer that the
inbox drops counts nothing), so the counts survive a restart and answer per programme. Keys are
"<kind>:<outcome>": registration:APPLIED / DUPLICATE / STALE / KPJ_CONFLICT / UNKNOWN_ATTEMPT,
payment:..., release:..., deregistration:APPLIED / DUPLICATE, clock:<table>:<action>.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from sqlalchemy import BigInteger, Column, Table, Text, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from services.enrollment.adapters.tables import metadata

answer_outcomes = Table(
    "answer_outcomes",
    metadata,
    Column("programme_code", Text, primary_key=True),  # "" when the answer names no known request
    Column("outcome", Text, primary_key=True),
    Column("count", BigInteger, nullable=False),
    # Handler state, not a projection of events: an audit replay does not rebuild or compare it.
    info={"handler_state": True},
)


async def record(conn: AsyncConnection, outcomes: Iterable[tuple[str, str]]) -> None:
    """Add one to each (programme code, outcome) given (repeats add up)."""
    counted = Counter(outcomes)
    if not counted:
        return
    stmt = insert(answer_outcomes).values(
        [{"programme_code": p, "outcome": o, "count": n} for (p, o), n in sorted(counted.items())]
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["programme_code", "outcome"],
            set_={"count": answer_outcomes.c["count"] + stmt.excluded["count"]},
        )
    )


async def counts(conn: AsyncConnection, programme: str | None) -> dict[str, int]:
    """The outcomes of one programme, or of all (summed), by outcome."""
    c = answer_outcomes.c
    query = select(c.outcome, func.sum(c["count"]).label("n")).group_by(c.outcome).order_by(c.outcome)
    if programme:
        query = query.where(c.programme_code == programme)
    return {r.outcome: int(r.n) for r in await conn.execute(query)}
