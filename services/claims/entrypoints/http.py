"""The claims HTTP API: the claims ledger, its flags and a monthly summary (application/views.py).
No NIK is ever shown (the service does not keep one); workers appear by their pseudonymous
worker id and KPJ."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query

from libs.auth import READERS, Principal, caller, listing_regency
from libs.runtime.service import Runtime, runtime_of
from services.claims.application import views
from services.claims.application.views import ClaimFilter, MonthInvalid

router = APIRouter()
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
# Read-only: officers see their own regency's claims, admins and auditors all of them. BPJS pushes
# claims on its Kafka topic, not here.
Reader = Annotated[Principal, Depends(caller(*READERS))]
Month = Annotated[
    str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM of the paid date")
]
ClaimType = Annotated[Literal["JKK", "JKM"] | None, Query(description="JKK (work accident) or JKM (death)")]


def _month_invalid(month: str | None) -> HTTPException:
    return HTTPException(
        422, {"code": "MONTH_INVALID", "message": f"Bulan {month} di luar rentang tanggal yang didukung."}
    )


@router.get("/claims", tags=["claims"])
async def list_claims(
    rt: RuntimeDep,
    who: Reader,
    programme: Annotated[str | None, Query(description="premium programme code")] = None,
    regency: Annotated[str | None, Query(description="regency code, e.g. 12.17")] = None,
    flagged: bool | None = None,
    type: ClaimType = None,
    month: Month = None,
    flag: Annotated[str | None, Query(description="only claims with this flag code")] = None,
    kpj: str | None = None,
    worker_id: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Claims BPJS paid, newest payment first, filtered by programme, regency, type, month, flags
    (an officer's regency only)."""
    regency = listing_regency(who, regency)
    wanted = ClaimFilter(programme, regency, type, month, flagged, flag, kpj, worker_id)
    try:
        return await views.list_claims(rt.engine, wanted, page, per_page)
    except MonthInvalid:
        raise _month_invalid(month) from None


@router.get("/claims/summary", tags=["claims"])
async def claims_summary(
    rt: RuntimeDep,
    who: Reader,
    programme: str | None = None,
    regency: str | None = None,
    type: ClaimType = None,
    month: Month = None,
) -> dict[str, Any]:
    """Counts and amounts by type (JKK/JKM) and month of payment; flagged claims by flag code
    (an officer's regency only)."""
    regency = listing_regency(who, regency)
    try:
        return await views.claims_summary(rt.engine, ClaimFilter(programme, regency, type, month))
    except MonthInvalid:
        raise _month_invalid(month) from None


@router.get("/claims/{claim_id}", tags=["claims"])
async def get_claim(claim_id: str, rt: RuntimeDep, who: Reader) -> dict[str, Any]:
    """One claim with all its flags."""
    row = await views.claim(rt.engine, claim_id)
    # Another regency's claim is not found, like a claim nobody recorded: no oracle (a claim of an
    # unknown participant has no regency: province-wide roles only).
    if row is None or not who.may_see_regency(row.regency_code or ""):
        raise HTTPException(404, {"code": "CLAIM_NOT_FOUND", "message": "Klaim tidak ditemukan."})
    return views.public(row)
