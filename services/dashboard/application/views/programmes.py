"""The programmes the dashboard knows, and their decrees (SK)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.dashboard.adapters.tables import decrees, programmes
from services.dashboard.domain import labels as lb


class ProgrammeNotFound(LookupError):
    """No ProgrammeDefined for this code has reached the dashboard."""


async def list_programmes(conn: AsyncConnection) -> list[dict[str, Any]]:
    """The programmes the dashboard knows, newest year first."""
    query = select(programmes).order_by(programmes.c.year.desc(), programmes.c.programme_code)
    return [programme_json(r) for r in await conn.execute(query)]


def programme_json(r: Any) -> dict[str, Any]:
    """A programme row as the API answers it."""
    return {
        "code": r.programme_code,
        "name": r.name,
        "year": r.year,
        "funder": r.funder,
        "funder_label": lb.label(lb.FUNDER_LABELS, r.funder),
        "jurisdiction": r.jurisdiction,
        "months": r.months,
        "premium_per_month": r.premium_jkk + r.premium_jkm,
        "cost_per_worker": r.cost_per_worker,
        "budget_cap": r.budget_cap,
        "requires_decree": r.requires_decree,
        "coverage_start": r.coverage_start.isoformat(),
        "coverage_end": r.coverage_end.isoformat(),
        "village_cap": r.village_cap,
    }


async def decrees_of(conn: AsyncConnection, code: str) -> list[dict[str, Any]]:
    """The programme's decrees (SK), first version first."""
    d = decrees.c
    rows = await conn.execute(select(decrees).where(d.programme_code == code).order_by(d.version))
    return [
        {
            "version": r.version,
            "number": r.decree_number,
            "date": r.decree_date.isoformat(),
            "signer": r.signer,
            "worker_count": r.worker_count,
            "total_cost": r.total_cost,
            "added": r.added,
            "removed": r.removed,
        }
        for r in rows
    ]
