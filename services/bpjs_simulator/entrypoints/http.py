"""The simulator's HTTP API: what the pretend insurer holds (for tests and demos)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy import func, select

from libs.runtime.service import Runtime, runtime_of
from services.bpjs_simulator.adapters.tables import participants

router = APIRouter()
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


@router.get("/participants/count", tags=["simulator"])
async def participant_count(rt: RuntimeDep) -> dict[str, Any]:
    """How many participants the simulator registered, and how many distinct KPJs it issued."""
    async with rt.engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(participants))).scalar_one()
        kpjs = (await conn.execute(select(func.count(func.distinct(participants.c.kpj))))).scalar_one()
    return {"participants": total, "distinct_kpj": kpjs}
