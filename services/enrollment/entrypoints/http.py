"""Enrollment's HTTP API: registrations and their outcomes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy import func, select

from libs.runtime.service import Runtime, runtime_of
from services.enrollment.adapters.tables import registrations

router = APIRouter()
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


def _public(r: Any) -> dict[str, Any]:
    return {
        "worker_id": r.worker_id,
        "programme_code": r.programme_code,
        "status": r.status,
        "kpj": r.kpj,
        "nik": r.nik_masked,
        "funder": r.funder,
        "regency_code": r.regency_code,
        "sector": r.sector,
        "coverage_start": r.coverage_start.isoformat(),
        "coverage_end": r.coverage_end.isoformat(),
        "attempts": r.attempts,
        "reason_code": r.reason_code,
        "reason": r.reason,
    }


@router.get("/enrollments", tags=["enrollments"])
async def list_enrollments(
    rt: RuntimeDep,
    programme: str | None = None,
    status: str | None = None,
    regency: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Registrations at BPJS, filtered by programme, status and regency (NIKs masked)."""
    query = select(registrations)
    if programme:
        query = query.where(registrations.c.programme_code == programme)
    if status:
        query = query.where(registrations.c.status == status)
    if regency:
        query = query.where(registrations.c.regency_code == regency)
    async with rt.engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = await conn.execute(
            query.order_by(registrations.c.requested_at, registrations.c.worker_id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        return {"total": total, "page": page, "per_page": per_page, "items": [_public(r) for r in rows]}


@router.get("/enrollments/{worker_id}", tags=["enrollments"])
async def get_enrollment(worker_id: str, rt: RuntimeDep) -> list[dict[str, Any]]:
    """Every registration of one worker (one per programme)."""
    async with rt.engine.connect() as conn:
        rows = (await conn.execute(select(registrations).where(registrations.c.worker_id == worker_id))).all()
    if not rows:
        raise HTTPException(404, {"code": "ENROLLMENT_NOT_FOUND", "message": "Pendaftaran tidak ditemukan."})
    return [_public(r) for r in rows]
