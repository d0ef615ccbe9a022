"""Projection of allocation's own events into its read models (same transaction as the append).

Every read model here is rebuilt by replaying the allocation event store through `project`:
a decree's list is the set of workers assigned when its DecreeIssued was appended, so replaying
up to that event snapshots the same list, and the snapshot is checked against the decree's hash.
"""

from __future__ import annotations

import functools
from datetime import datetime
from typing import Any

from sqlalchemy import Executable, Integer, String, bindparam, cast, func, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope, decode
from libs.events.contracts import allocation as wire
from libs.pii import FORGOTTEN
from services.allocation.adapters.assignment_changes import (
    assigned_values,
    declined_values,
    released_values,
    unseated_values,
    waitlisted_values,
)
from services.allocation.adapters.decree_projection import project_decree
from services.allocation.adapters.tables import assignments, decree_entries, programmes, quota_cells


async def project(conn: AsyncConnection, envelope: Envelope) -> None:
    """Apply one allocation event to the read models."""
    event = decode(envelope)
    at = envelope.occurred_at
    if isinstance(event, wire.ProgrammeDefined):
        await _programme(conn, event)
    elif isinstance(event, wire.QuotaAssigned):
        await _assigned(conn, event, at)
    elif isinstance(event, wire.QuotaWaitlisted):
        await _waitlisted(conn, event, at)
    elif isinstance(event, wire.QuotaUnseated):
        await _unseated(conn, event, at)
    elif isinstance(event, wire.QuotaReleased):
        await _released(conn, event, at)
    elif isinstance(event, wire.QuotaDeclined):
        await _upsert(conn, event.programme_code, event.worker_id, **declined_values(event, at))
    elif isinstance(event, wire.QuotaChanged):
        await _seats(conn, event)
    elif isinstance(event, wire.BudgetChanged):
        await conn.execute(
            update(programmes)
            .where(programmes.c.programme_code == event.programme_code)
            .values(budget_cap=event.budget_cap)
        )
    elif isinstance(event, wire.DecreeIssued):
        await project_decree(conn, event, envelope)
    elif isinstance(event, wire.AssignmentDecreed):
        await conn.execute(
            update(assignments)
            .where(
                assignments.c.programme_code == event.programme_code,
                assignments.c.worker_id == event.worker_id,
            )
            .values(decreed_in=event.decree_number)
        )


async def _programme(conn: AsyncConnection, event: wire.ProgrammeDefined) -> None:
    cost = (event.premium_jkk + event.premium_jkm) * event.months
    row = {
        "programme_code": event.programme_code,
        "name": event.name,
        "year": event.year,
        "funder": event.funder.value,
        "jurisdiction": event.jurisdiction,
        "coverage_start": event.coverage_start,
        "coverage_end": event.coverage_end,
        "cost_per_worker": cost,
        "budget_cap": event.budget_cap,
        "seats_total": sum(c.seats for c in event.quotas),
        "assigned": 0,
        "waitlisted": 0,
        "requires_decree": event.requires_decree,
        "definition": event.model_dump(mode="json"),
    }
    stmt = insert(programmes).values(row)
    keep = {k: stmt.excluded[k] for k in row if k not in ("assigned", "waitlisted")}
    await conn.execute(stmt.on_conflict_do_update(index_elements=["programme_code"], set_=keep))
    for cell in event.quotas:
        await _cell(conn, event.programme_code, cell.regency_code, cell.sector, cell.seats)


async def _cell(conn: AsyncConnection, programme_code: str, regency: str, sector: str, seats: int) -> None:
    stmt = insert(quota_cells).values(
        programme_code=programme_code, regency_code=regency, sector=sector, seats=seats, assigned=0
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["programme_code", "regency_code", "sector"], set_={"seats": seats}
        )
    )


async def _seats(conn: AsyncConnection, event: wire.QuotaChanged) -> None:
    await _cell(conn, event.programme_code, event.regency_code, event.sector, event.seats)
    await conn.execute(
        update(programmes)
        .where(programmes.c.programme_code == event.programme_code)
        .values(seats_total=programmes.c.seats_total + (event.seats - event.previous_seats))
    )


async def _assigned(conn: AsyncConnection, event: wire.QuotaAssigned, at: datetime) -> None:
    await _record(conn, event.programme_code, event.worker_id, assigned_values(event, at), assigned=+1)


async def _waitlisted(conn: AsyncConnection, event: wire.QuotaWaitlisted, at: datetime) -> None:
    await _record(conn, event.programme_code, event.worker_id, waitlisted_values(event, at), assigned=0)


async def _record(
    conn: AsyncConnection, programme_code: str, worker_id: str, values: dict[str, Any], *, assigned: int
) -> None:
    """Upsert a worker's row and move the counters in one statement (the bulk path of allocation)."""
    statement = _record_statement(tuple(sorted(values)), moves_cell=bool(assigned))
    params = {f"v_{k}": v for k, v in values.items()}
    params.update(
        p_programme=programme_code,
        p_worker=worker_id,
        p_assigned=assigned,
        p_now_waiting=1 if values["status"] == "waitlisted" else 0,
    )
    await conn.execute(statement, params)


@functools.cache
def _record_statement(columns: tuple[str, ...], *, moves_cell: bool) -> Executable:
    """The statement of `_record`, built once per shape: building it per event cost more CPU than
    PostgreSQL took to run it (profile of `bench_full_size`).

    Data-modifying CTEs all see the snapshot taken before the statement, so `previous` is the
    worker's status before this event: a worker promoted from the waitlist stops counting there.
    """
    programme = bindparam("p_programme", type_=String)
    worker = bindparam("p_worker", type_=String)
    # Bind names differ from column names: SQLAlchemy reserves those for INSERT/UPDATE values.
    params = {c: bindparam(f"v_{c}", type_=assignments.c[c].type) for c in columns}
    previous = (
        select(assignments.c.status)
        .where(assignments.c.programme_code == programme, assignments.c.worker_id == worker)
        .cte("previous")
    )
    row = (
        insert(assignments)
        .values(programme_code=programme, worker_id=worker, **params)
        .on_conflict_do_update(index_elements=["programme_code", "worker_id"], set_=params)
        .cte("row")
    )
    was_waiting = select(func.count()).select_from(previous).where(previous.c.status == "waitlisted")
    counters = (
        update(programmes)
        .where(programmes.c.programme_code == programme)
        .values(
            assigned=programmes.c.assigned + bindparam("p_assigned", type_=Integer),
            waitlisted=programmes.c.waitlisted
            + bindparam("p_now_waiting", type_=Integer)
            - was_waiting.scalar_subquery(),
        )
        .add_cte(row)
    )
    if moves_cell:
        cell = (
            update(quota_cells)
            .where(
                quota_cells.c.programme_code == programme,
                quota_cells.c.regency_code == params["regency_code"],
                quota_cells.c.sector == params["sector"],
            )
            .values(assigned=quota_cells.c.assigned + bindparam("p_assigned", type_=Integer))
            .cte("cell")
        )
        counters = counters.add_cte(cell)
    return counters


async def _unseated(conn: AsyncConnection, event: wire.QuotaUnseated, at: datetime) -> None:
    await conn.execute(
        update(assignments)
        .where(
            assignments.c.programme_code == event.programme_code,
            assignments.c.worker_id == event.worker_id,
        )
        .values(**unseated_values(event, at))
    )
    await _count(conn, event.programme_code, event.regency_code, event.sector, -1)
    await _waitlisted_count(conn, event.programme_code, +1)


async def _released(conn: AsyncConnection, event: wire.QuotaReleased, at: datetime) -> None:
    previous = await _status(conn, event.programme_code, event.worker_id)
    await conn.execute(
        update(assignments)
        .where(
            assignments.c.programme_code == event.programme_code,
            assignments.c.worker_id == event.worker_id,
        )
        .values(**released_values(event, at))
    )
    if previous == "assigned":
        await _count(conn, event.programme_code, event.regency_code, event.sector, -1)
    elif previous == "waitlisted":
        await _waitlisted_count(conn, event.programme_code, -1)


async def _status(conn: AsyncConnection, programme_code: str, worker_id: str) -> str | None:
    return (
        await conn.execute(
            select(assignments.c.status).where(
                assignments.c.programme_code == programme_code, assignments.c.worker_id == worker_id
            )
        )
    ).scalar_one_or_none()


async def _upsert(conn: AsyncConnection, programme_code: str, worker_id: str, **values: Any) -> None:
    stmt = insert(assignments).values(programme_code=programme_code, worker_id=worker_id, **values)
    await conn.execute(
        stmt.on_conflict_do_update(index_elements=["programme_code", "worker_id"], set_=values)
    )


async def _count(conn: AsyncConnection, programme_code: str, regency: str, sector: str, delta: int) -> None:
    await conn.execute(
        update(quota_cells)
        .where(
            quota_cells.c.programme_code == programme_code,
            quota_cells.c.regency_code == regency,
            quota_cells.c.sector == sector,
        )
        .values(assigned=quota_cells.c.assigned + delta)
    )
    await conn.execute(
        update(programmes)
        .where(programmes.c.programme_code == programme_code)
        .values(assigned=programmes.c.assigned + delta)
    )


async def _waitlisted_count(conn: AsyncConnection, programme_code: str, delta: int) -> None:
    await conn.execute(
        update(programmes)
        .where(programmes.c.programme_code == programme_code)
        .values(waitlisted=programmes.c.waitlisted + delta)
    )


# What a forgotten person's identity keeps (libs/privacy): what projecting their events opened
# without a key writes too, so a replay equals the scrubbed rows. Sex, counts and money stay.
FORGOTTEN_IDENTITY = {"nik": FORGOTTEN, "full_name": FORGOTTEN, "birth_date": FORGOTTEN}


async def scrub_person(conn: AsyncConnection, worker_id: str) -> None:
    """PersonForgotten: the worker's identity in the assignments and the decree lists goes."""
    await conn.execute(
        update(assignments)
        .where(assignments.c.worker_id == worker_id, assignments.c.identity.is_not(None))
        .values(identity=assignments.c.identity.op("||")(cast(literal(FORGOTTEN_IDENTITY, JSONB), JSONB)))
    )
    await conn.execute(
        update(decree_entries)
        .where(decree_entries.c.worker_id == worker_id)
        .values(full_name=FORGOTTEN, nik_masked=FORGOTTEN)
    )
