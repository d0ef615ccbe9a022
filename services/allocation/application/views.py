"""Read side of allocation: programmes with their budget, quota use, waitlists and decrees.

Queries over the read models only (never the event store); amounts are integer rupiah, workers
are named by worker id, and personal data leaves only as masked NIKs in decree lists.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.allocation.adapters.tables import assignments, programmes, quota_cells
from services.allocation.application.decree_views import list_decrees
from services.allocation.domain.budget import BudgetPosition
from services.allocation.domain.wording import number, rupiah


def budget_view(cap: int, cost: int, seats_total: int, assigned: int, months: int) -> dict[str, Any]:
    """A programme's budget: cap against quota cost and committed workers, with officer flags."""
    position = BudgetPosition(
        cap=cap, cost_per_worker=cost, seats_total=seats_total, committed_workers=assigned
    )
    flags = []
    if position.shortfall:
        flags.append(
            {
                "code": "BUDGET_SHORTFALL",
                "message": (
                    f"Pagu {rupiah(cap)} kurang {rupiah(position.shortfall)} dari biaya kuota "
                    f"{rupiah(position.quota_cost)} ({number(seats_total)} kursi × {rupiah(cost)}); "
                    f"paling banyak {number(position.affordable_workers)} pekerja dapat dibiayai."
                ),
            }
        )
    if position.overcommitted:
        flags.append(
            {
                "code": "BUDGET_OVERCOMMITTED",
                "message": (
                    f"Pekerja yang sudah mendapat kuota bernilai {rupiah(position.committed_rupiah)}, "
                    f"melebihi pagu {rupiah(cap)} sebesar {rupiah(position.overcommitted)}; tidak ada "
                    "penetapan baru sampai ada kuota yang dilepas."
                ),
            }
        )
    return {
        "budget_cap": cap,
        "cost_per_worker": cost,
        "premium_per_month": cost // months,
        "months": months,
        "seats_total": seats_total,
        "quota_cost": position.quota_cost,
        "shortfall": position.shortfall,
        "quota_headroom": max(0, cap - position.quota_cost),
        "affordable_workers": position.affordable_workers,
        "fundable_seats": position.fundable_seats,
        "committed_workers": assigned,
        "committed_rupiah": position.committed_rupiah,
        "headroom": position.headroom,
        "overcommitted": position.overcommitted,
        "flags": flags,
        "summary": (
            f"Biaya kuota {rupiah(position.quota_cost)} dari pagu {rupiah(cap)}; "
            f"terpakai {rupiah(position.committed_rupiah)} untuk {number(assigned)} pekerja."
        ),
    }


def _programme_json(r: Any) -> dict[str, Any]:
    months = int(r.definition["months"])
    return {
        "programme_code": r.programme_code,
        "name": r.name,
        "year": r.year,
        "funder": r.funder,
        "jurisdiction": r.jurisdiction,
        "coverage_start": r.coverage_start.isoformat(),
        "coverage_end": r.coverage_end.isoformat(),
        "requires_decree": r.requires_decree,
        "seats_total": r.seats_total,
        "assigned": r.assigned,
        "waitlisted": r.waitlisted,
        "budget": budget_view(r.budget_cap, r.cost_per_worker, r.seats_total, r.assigned, months),
    }


async def list_programmes(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Every programme with seats, assignments and its budget position."""
    rows = await conn.execute(select(programmes).order_by(programmes.c.programme_code))
    return [_programme_json(r) for r in rows]


async def programme(conn: AsyncConnection, code: str) -> dict[str, Any] | None:
    """One programme with its budget, settings and decrees; None when unknown."""
    row = (await conn.execute(select(programmes).where(programmes.c.programme_code == code))).first()
    if row is None:
        return None
    view = _programme_json(row)
    d = row.definition
    view["settings"] = {
        k: d[k]
        for k in (
            "premium_jkk",
            "premium_jkm",
            "months",
            "allowed_deciles",
            "age_min",
            "age_max",
            "occupations",
        )
    }
    view["decrees"] = await list_decrees(conn, code)
    return view


async def quota_use(conn: AsyncConnection, code: str) -> list[dict[str, Any]]:
    """Seats, assigned, waiting and free per regency × sector."""
    waiting = {
        (r.regency_code, r.sector): r.n
        for r in await conn.execute(
            select(assignments.c.regency_code, assignments.c.sector, func.count().label("n"))
            .where(assignments.c.programme_code == code, assignments.c.status == "waitlisted")
            .group_by(assignments.c.regency_code, assignments.c.sector)
        )
    }
    rows = await conn.execute(
        select(quota_cells)
        .where(quota_cells.c.programme_code == code)
        .order_by(quota_cells.c.regency_code, quota_cells.c.sector)
    )
    return [
        {
            "regency_code": r.regency_code,
            "sector": r.sector,
            "seats": r.seats,
            "assigned": r.assigned,
            "waitlisted": waiting.get((r.regency_code, r.sector), 0),
            "free": max(0, r.seats - r.assigned),
            "over_assigned": max(0, r.assigned - r.seats),
        }
        for r in rows
    ]


async def waitlist(
    conn: AsyncConnection, code: str, regency: str | None, sector: str | None, limit: int, offset: int
) -> dict[str, Any]:
    """Waiting workers in the order seats will go to them (decree round, desil, nomination).

    `position` is the place on the programme's list (the order promotions follow); `position_in_cell`
    the place among workers waiting for the same regency × sector.
    """
    order = (
        assignments.c.decree_round,
        assignments.c.desil_rank,
        assignments.c.nomination_seq,
        assignments.c.worker_id.collate("C"),  # code-point order, as the domain breaks ties
    )
    ranked = (
        select(
            assignments.c.worker_id,
            assignments.c.regency_code,
            assignments.c.sector,
            assignments.c.desil_rank,
            assignments.c.decree_round,
            assignments.c.wait_reason,
            assignments.c.unseated_by,
            func.row_number().over(order_by=order).label("position"),
            func.row_number()
            .over(partition_by=(assignments.c.regency_code, assignments.c.sector), order_by=order)
            .label("position_in_cell"),
        )
        .where(assignments.c.programme_code == code, assignments.c.status == "waitlisted")
        .subquery()
    )
    query = select(ranked)
    if regency:
        query = query.where(ranked.c.regency_code == regency)
    if sector:
        query = query.where(ranked.c.sector == sector)
    total = (await conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await conn.execute(query.order_by(ranked.c.position).limit(limit).offset(offset))
    return {
        "total": total,
        "items": [
            {
                "worker_id": r.worker_id,
                "regency_code": r.regency_code,
                "sector": r.sector,
                "desil": r.desil_rank,
                "decree_round": r.decree_round,
                "reason": r.wait_reason,
                "unseated_by": r.unseated_by,
                "position": r.position,
                "position_in_cell": r.position_in_cell,
            }
            for r in rows
        ],
    }


async def list_assignments(
    conn: AsyncConnection, code: str, status: str | None, regency: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Workers decided by the programme (no NIK, no name: worker ids only). A declined or released
    worker another programme keeps names it: `held_by` (code) and `held_by_name`."""
    holder = programmes.alias("holder")
    query = (
        select(assignments, holder.c.name.label("held_by_name"))
        .outerjoin(holder, holder.c.programme_code == assignments.c.held_by)
        .where(assignments.c.programme_code == code)
    )
    if status:
        query = query.where(assignments.c.status == status)
    if regency:
        query = query.where(assignments.c.regency_code == regency)
    rows = await conn.execute(
        query.order_by(assignments.c.regency_code, assignments.c.sector, assignments.c.worker_id)
        .limit(limit)
        .offset(offset)
    )
    return [
        {
            "worker_id": r.worker_id,
            "nomination_id": r.nomination_id,
            "status": r.status,
            "regency_code": r.regency_code,
            "sector": r.sector,
            "decile": r.decile,
            # The desil the waitlist ranks by: the P3KE desil, or the DTKS rank for DTKS-only.
            "rank_desil": r.desil_rank,
            "position": r.position,
            "release_reason": r.release_reason,
            "held_by": r.held_by,
            "held_by_name": r.held_by_name,
            "decreed_in": r.decreed_in,
        }
        for r in rows
    ]
