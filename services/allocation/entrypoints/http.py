"""Allocation's HTTP API: programmes in; quota use, budget and waitlists out."""

from __future__ import annotations

from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, HTTPException, Request
from pydantic import ValidationError
from sqlalchemy import select

from libs.runtime.service import Runtime, runtime_of
from services.allocation.adapters.tables import assignments, programmes, quota_cells
from services.allocation.application.programmes import (
    ProgrammeAlreadyDefined,
    define_programme,
    parse_programme,
)
from services.allocation.domain.budget import BudgetPosition

router = APIRouter()
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


@router.post("/programmes", status_code=201, tags=["programmes"])
async def post_programme(request: Request, rt: RuntimeDep) -> dict[str, Any]:
    """Define a programme from JSON or YAML (Content-Type application/yaml); see docs/examples/."""
    raw = await request.body()
    try:
        data = (
            yaml.safe_load(raw) if "yaml" in request.headers.get("content-type", "") else await request.json()
        )
        programme = parse_programme(data)
    except (ValidationError, ValueError, yaml.YAMLError) as exc:
        raise HTTPException(422, {"code": "PROGRAMME_INVALID", "message": str(exc)[:2000]}) from exc
    try:
        created = await define_programme(rt.engine, rt.store, programme)
    except ProgrammeAlreadyDefined as exc:
        raise HTTPException(409, {"code": exc.code, "message": str(exc)}) from exc
    rt.relay.wake()
    return {"programme_code": programme.code, "created": created, **_budget(programme.budget_position())}


def _budget(position: BudgetPosition) -> dict[str, int]:
    return {
        "budget_cap": position.cap,
        "cost_per_worker": position.cost_per_worker,
        "quota_cost": position.quota_cost,
        "shortfall": position.shortfall,
        "affordable_workers": position.affordable_workers,
        "committed_rupiah": position.committed_rupiah,
        "headroom": position.headroom,
    }


@router.get("/programmes", tags=["programmes"])
async def list_programmes(rt: RuntimeDep) -> list[dict[str, Any]]:
    """Programmes with seats, assignments and the budget position (integer rupiah)."""
    async with rt.engine.connect() as conn:
        rows = (await conn.execute(select(programmes).order_by(programmes.c.programme_code))).all()
    return [
        {
            "programme_code": r.programme_code,
            "name": r.name,
            "year": r.year,
            "funder": r.funder,
            "seats_total": r.seats_total,
            "assigned": r.assigned,
            "waitlisted": r.waitlisted,
            "requires_decree": r.requires_decree,
            **_budget(BudgetPosition(r.budget_cap, r.cost_per_worker, r.seats_total, r.assigned)),
        }
        for r in rows
    ]


@router.get("/programmes/{code}/quotas", tags=["programmes"])
async def quota_use(code: str, rt: RuntimeDep) -> list[dict[str, Any]]:
    """Seats and assignments per regency × sector."""
    async with rt.engine.connect() as conn:
        rows = await conn.execute(
            select(quota_cells)
            .where(quota_cells.c.programme_code == code)
            .order_by(quota_cells.c.regency_code, quota_cells.c.sector)
        )
        return [
            {"regency_code": r.regency_code, "sector": r.sector, "seats": r.seats, "assigned": r.assigned}
            for r in rows
        ]


@router.get("/programmes/{code}/assignments", tags=["programmes"])
async def list_assignments(
    code: str, rt: RuntimeDep, status: str | None = None, regency: str | None = None
) -> list[dict[str, Any]]:
    """Assigned, waitlisted and released workers (no NIK: worker ids only)."""
    query = select(assignments).where(assignments.c.programme_code == code)
    if status:
        query = query.where(assignments.c.status == status)
    if regency:
        query = query.where(assignments.c.regency_code == regency)
    async with rt.engine.connect() as conn:
        rows = await conn.execute(
            query.order_by(assignments.c.position.nulls_first(), assignments.c.worker_id)
        )
        return [
            {
                "worker_id": r.worker_id,
                "status": r.status,
                "regency_code": r.regency_code,
                "sector": r.sector,
                "decile": r.decile,
                "position": r.position,
                "release_reason": r.release_reason,
            }
            for r in rows
        ]
