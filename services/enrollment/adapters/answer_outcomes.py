"""What BPJS's answers (and the clock) did, per programme: a durable read model behind
GET /enrollments/stats "answers".

Each count is written in the transaction that decided the outcome (a redelivered answer that the
inbox drops counts nothing), so the counts survive a restart and answer per programme. Keys are
"<kind>:<outcome>": registration:APPLIED / DUPLICATE / STALE / KPJ_CONFLICT / UNKNOWN_ATTEMPT,
payment:..., release:..., deregistration:APPLIED / DUPLICATE, clock:<table>:<action>.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import BigInteger, Column, Table, Text, func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import (
    DeregistrationConfirmed,
    DeregistrationRejected,
    PremiumPaymentConfirmed,
    PremiumPaymentRejected,
    RegistrationAccepted,
    RegistrationRejected,
)
from services.enrollment.adapters.tables import bills, deregistrations, metadata, registrations

answer_outcomes = Table(
    "answer_outcomes",
    metadata,
    Column("programme_code", Text, primary_key=True),  # "" when the answer names no known request
    Column("outcome", Text, primary_key=True),
    Column("count", BigInteger, nullable=False),
    # Handler state, not a projection of events: an audit replay does not rebuild or compare it.
    info={"handler_state": True},
)


async def programmes_of(conn: AsyncConnection, events: Sequence[DomainEvent]) -> list[str]:
    """The programme each event concerns: a BPJS answer by the request it answers ("" unknown)."""
    lookups: dict[str, tuple[Any, Any]] = {}
    wanted: dict[str, list[str]] = {}
    for e in events:
        if isinstance(e, RegistrationAccepted | RegistrationRejected):
            lookups["reg"] = (registrations.c.request_id, registrations.c.programme_code)
            wanted.setdefault("reg", []).append(e.request_id)
        elif isinstance(e, DeregistrationConfirmed | DeregistrationRejected):
            lookups["dereg"] = (deregistrations.c.request_id, deregistrations.c.programme_code)
            wanted.setdefault("dereg", []).append(e.request_id)
        elif isinstance(e, PremiumPaymentConfirmed | PremiumPaymentRejected):
            lookups["bill"] = (bills.c.bill_id, bills.c.programme_code)
            wanted.setdefault("bill", []).append(e.payment_request_id)
    found: dict[tuple[str, str], str] = {}
    for kind, (key, programme) in lookups.items():
        rows = await conn.execute(select(key, programme).where(key.in_(wanted[kind])))
        found |= {(kind, r[0]): r[1] for r in rows}
    out = []
    for e in events:
        if isinstance(e, RegistrationAccepted | RegistrationRejected):
            out.append(found.get(("reg", e.request_id), ""))
        elif isinstance(e, DeregistrationConfirmed | DeregistrationRejected):
            out.append(found.get(("dereg", e.request_id), ""))
        elif isinstance(e, PremiumPaymentConfirmed | PremiumPaymentRejected):
            out.append(found.get(("bill", e.payment_request_id), ""))
        else:
            out.append(str(getattr(e, "programme_code", "")))
    return out


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


async def record_for_row(
    conn: AsyncConnection, table: Table, keys: tuple[str, ...], key: tuple[Any, ...], outcome: str
) -> None:
    """Count `outcome` for the programme of the row of `table` with this key (the clock's acts)."""
    programme = (
        await conn.execute(
            select(table.c.programme_code).where(*(table.c[k] == v for k, v in zip(keys, key, strict=True)))
        )
    ).scalar()
    await record(conn, [(programme or "", outcome)])


async def counts(conn: AsyncConnection, programme: str | None) -> dict[str, int]:
    """The outcomes of one programme, or of all (summed), by outcome."""
    c = answer_outcomes.c
    query = select(c.outcome, func.sum(c["count"]).label("n")).group_by(c.outcome).order_by(c.outcome)
    if programme:
        query = query.where(c.programme_code == programme)
    return {r.outcome: int(r.n) for r in await conn.execute(query)}
