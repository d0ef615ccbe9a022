"""Projection of allocation's own events into its read models (same transaction as the append)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope, decode
from libs.events.contracts.allocation import ProgrammeDefined, QuotaAssigned, QuotaReleased, QuotaWaitlisted
from services.allocation.adapters.tables import assignments, programmes, quota_cells


async def project(conn: AsyncConnection, envelope: Envelope) -> None:
    """Apply one allocation event to the read models."""
    event = decode(envelope)
    if isinstance(event, ProgrammeDefined):
        await _programme(conn, event)
    elif isinstance(event, QuotaAssigned):
        previous = await _status(conn, event.programme_code, event.worker_id)
        await _upsert(
            conn,
            event.programme_code,
            event.worker_id,
            nomination_id=event.nomination_id,
            status="assigned",
            regency_code=event.regency_code,
            sector=event.sector,
            decile=event.decile,
            position=None,
            identity=event.identity.model_dump(),
            updated_at=envelope.occurred_at,
        )
        await _count(conn, event.programme_code, event.regency_code, event.sector, +1)
        if previous == "waitlisted":
            await _waitlisted(conn, event.programme_code, -1)
    elif isinstance(event, QuotaWaitlisted):
        await _upsert(
            conn,
            event.programme_code,
            event.worker_id,
            nomination_id=event.nomination_id,
            status="waitlisted",
            regency_code=event.regency_code,
            sector=event.sector,
            decile=event.decile,
            position=event.position,
            identity=event.identity.model_dump(),
            updated_at=envelope.occurred_at,
        )
        await _waitlisted(conn, event.programme_code, +1)
    elif isinstance(event, QuotaReleased):
        previous = await _status(conn, event.programme_code, event.worker_id)
        await conn.execute(
            update(assignments)
            .where(
                assignments.c.programme_code == event.programme_code,
                assignments.c.worker_id == event.worker_id,
            )
            .values(
                status="released", release_reason=event.reason, position=None, updated_at=envelope.occurred_at
            )
        )
        if previous == "assigned":
            await _count(conn, event.programme_code, event.regency_code, event.sector, -1)
        elif previous == "waitlisted":
            await _waitlisted(conn, event.programme_code, -1)


async def _programme(conn: AsyncConnection, event: ProgrammeDefined) -> None:
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
        cell_stmt = insert(quota_cells).values(
            programme_code=event.programme_code,
            regency_code=cell.regency_code,
            sector=cell.sector,
            seats=cell.seats,
            assigned=0,
        )
        await conn.execute(
            cell_stmt.on_conflict_do_update(
                index_elements=["programme_code", "regency_code", "sector"], set_={"seats": cell.seats}
            )
        )


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


async def _waitlisted(conn: AsyncConnection, programme_code: str, delta: int) -> None:
    await conn.execute(
        update(programmes)
        .where(programmes.c.programme_code == programme_code)
        .values(waitlisted=programmes.c.waitlisted + delta)
    )
