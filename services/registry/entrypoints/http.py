"""The registry's HTTP API: nominations in, nominations out."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel
from sqlalchemy import func, select

from libs.events.contracts.common import Reason
from libs.pii import mask_nik
from libs.runtime.service import Runtime, runtime_of
from services.registry.adapters.tables import nominations, programmes
from services.registry.application.commands import NominateWorker
from services.registry.application.nominate import ProgrammeUnknown, nominate
from services.registry.application.reference import ReferenceFileError, import_reference

router = APIRouter()
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


class NominationAnswer(BaseModel):
    nomination_id: str | None
    worker_id: str
    status: str
    reasons: list[Reason]


@router.post("/nominations", status_code=201, response_model=NominationAnswer, tags=["nominations"])
async def post_nomination(cmd: NominateWorker, rt: RuntimeDep) -> Any:
    """Nominate one worker. Answers with the validation outcome (and every reason for a rejection)."""
    try:
        result = await nominate(
            rt.engine,
            rt.store,
            cmd,
            channel="http",
            submitted_by="http",
            pepper=rt.settings.nik_pepper,
            nik_regency_must_match=rt.settings.nik_regency_must_match,
        )
    except ProgrammeUnknown as exc:
        raise HTTPException(404, {"code": exc.code, "message": str(exc)}) from exc
    rt.relay.wake()
    if result.status == "invalid":
        raise HTTPException(
            422, {"code": "NOMINATION_INVALID", "reasons": [r.model_dump() for r in result.reasons]}
        )
    return NominationAnswer(**result.__dict__)


def _public(row: Any) -> dict[str, Any]:
    return {
        "nomination_id": row.nomination_id,
        "worker_id": row.worker_id,
        "programme_code": row.programme_code,
        "regency_code": row.regency_code,
        "nik": mask_nik(row.nik),
        "full_name": row.full_name,
        "occupation": row.occupation,
        "sector": row.sector,
        "decile": row.decile,
        "funder": row.funder,
        "channel": row.channel,
        "status": row.status,
        "reasons": row.reasons,
        "nominated_at": row.nominated_at.isoformat(),
    }


@router.get("/nominations", tags=["nominations"])
async def list_nominations(
    rt: RuntimeDep,
    regency: str | None = None,
    status: str | None = None,
    reason: str | None = None,
    programme: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Nominations, filtered by regency, status, reason code and programme; NIKs masked."""
    query = select(nominations)
    if regency:
        query = query.where(nominations.c.regency_code == regency)
    if status:
        query = query.where(nominations.c.status == status)
    if programme:
        query = query.where(nominations.c.programme_code == programme)
    if reason:
        query = query.where(nominations.c.reasons.contains([{"code": reason}]))
    async with rt.engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = await conn.execute(
            query.order_by(nominations.c.nominated_at, nominations.c.nomination_id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        items = [_public(r) for r in rows]
    return {"total": total, "page": page, "per_page": per_page, "items": items}


@router.get("/nominations/{nomination_id}", tags=["nominations"])
async def get_nomination(nomination_id: str, rt: RuntimeDep) -> dict[str, Any]:
    """One nomination (NIK masked)."""
    async with rt.engine.connect() as conn:
        row = (
            await conn.execute(select(nominations).where(nominations.c.nomination_id == nomination_id))
        ).first()
    if row is None:
        raise HTTPException(404, {"code": "NOMINATION_NOT_FOUND", "message": "Usulan tidak ditemukan."})
    return _public(row)


@router.get("/programmes", tags=["programmes"])
async def list_programmes(rt: RuntimeDep) -> list[dict[str, Any]]:
    """Programmes the registry accepts nominations for."""
    async with rt.engine.connect() as conn:
        rows = await conn.execute(select(programmes).order_by(programmes.c.programme_code))
        return [r.definition for r in rows]


@router.post("/reference/{kind}", status_code=201, tags=["reference data"])
async def post_reference(kind: str, request: Request, rt: RuntimeDep) -> dict[str, Any]:
    """Replace the P3KE (columns nik, desil) or DTKS (column nik) extract with the CSV in the body."""
    try:
        result = await import_reference(rt.engine, kind, await request.body(), rt.settings.nik_pepper)
    except (ReferenceFileError, UnicodeDecodeError) as exc:
        raise HTTPException(422, {"code": "REFERENCE_INVALID", "message": str(exc)}) from exc
    return result.__dict__
