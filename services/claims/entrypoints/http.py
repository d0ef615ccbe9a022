"""The claims HTTP API: the claims ledger, its flags and a monthly summary. No NIK is ever shown
(the service does not keep one); workers appear by their pseudonymous worker id and KPJ."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from sqlalchemy import BigInteger, and_, cast, func, literal_column, select, true
from sqlalchemy.sql.elements import ColumnElement

from libs.auth import READERS, Principal, caller, listing_regency
from libs.runtime.service import Runtime, runtime_of
from services.claims.adapters.tables import claims

router = APIRouter()
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
# Read-only: officers see their own regency's claims, admins and auditors all of them. BPJS pushes
# claims on its Kafka topic, not here.
Reader = Annotated[Principal, Depends(caller(*READERS))]
Month = Annotated[
    str | None, Query(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM of the paid date")
]
ClaimType = Annotated[Literal["JKK", "JKM"] | None, Query(description="JKK (work accident) or JKM (death)")]


def _public(r: Any) -> dict[str, Any]:
    return {
        "claim_id": r.claim_id,
        "worker_id": r.worker_id,
        "kpj": r.kpj,
        "type": r.programme,
        "benefit_kind": r.benefit_kind,
        "incident_date": r.incident_date.isoformat(),
        "paid_date": r.paid_date.isoformat(),
        "amount": r.amount,
        "programme_code": r.programme_code,
        "regency_code": r.regency_code,
        "flagged": r.flagged,
        "flags": r.flags,
        "recorded_at": r.recorded_at.isoformat(),
    }


def _month_range(month: str) -> tuple[date, date]:
    year, mon = int(month[:4]), int(month[5:])
    try:
        start = date(year, mon, 1)
        end = date(year + mon // 12, mon % 12 + 1, 1)
    except ValueError:  # year 0000, or 9999-12 (its next month has no date)
        raise HTTPException(
            422, {"code": "MONTH_INVALID", "message": f"Bulan {month} di luar rentang tanggal yang didukung."}
        ) from None
    return start, end


def _filters(
    programme: str | None,
    regency: str | None,
    type_: str | None,
    month: str | None,
    flagged: bool | None = None,
    flag: str | None = None,
    kpj: str | None = None,
    worker_id: str | None = None,
) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if programme:
        where.append(claims.c.programme_code == programme)
    if regency:
        where.append(claims.c.regency_code == regency)
    if type_:
        where.append(claims.c.programme == type_)
    if month:
        start, end = _month_range(month)
        where.append(and_(claims.c.paid_date >= start, claims.c.paid_date < end))
    if flagged is not None:
        where.append(claims.c.flagged.is_(flagged))
    if flag:
        where.append(claims.c.flags.contains([{"code": flag}]))
    if kpj:
        where.append(claims.c.kpj == kpj)
    if worker_id:
        where.append(claims.c.worker_id == worker_id)
    return where


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
    where = _filters(programme, regency, type, month, flagged, flag, kpj, worker_id)
    query = select(claims).where(*where)
    async with rt.engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = await conn.execute(
            query.order_by(claims.c.paid_date.desc(), claims.c.claim_id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        return {"total": total, "page": page, "per_page": per_page, "items": [_public(r) for r in rows]}


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
    where = _filters(programme, regency, type, month)
    month_col = func.to_char(claims.c.paid_date, "YYYY-MM").label("month")
    amount = cast(func.coalesce(func.sum(claims.c.amount), 0), BigInteger)
    flagged_count = func.count().filter(claims.c.flagged.is_(True))
    by_month = (
        select(
            claims.c.programme.label("type"),
            month_col,
            func.count().label("claims"),
            amount.label("amount"),
            flagged_count.label("flagged"),
        )
        .where(*where)
        .group_by(claims.c.programme, month_col)
        .order_by(month_col, claims.c.programme)
    )
    totals = select(func.count(), amount, flagged_count).where(*where)
    reasons = func.jsonb_array_elements(claims.c.flags).table_valued("value").alias("reason")
    code = reasons.c.value.op("->>")(literal_column("'code'"))
    by_code = (
        select(code.label("code"), func.count(func.distinct(claims.c.claim_id)).label("claims"))
        .select_from(claims.join(reasons, true()))
        .where(*where)
        .group_by(code)
        .order_by(code)
    )
    async with rt.engine.connect() as conn:
        count, total_amount, flagged = (await conn.execute(totals)).one()
        months = [
            {
                "type": r.type,
                "month": r.month,
                "claims": r.claims,
                "amount": int(r.amount),
                "flagged": r.flagged,
            }
            for r in await conn.execute(by_month)
        ]
        codes = {r.code: r.claims for r in await conn.execute(by_code)}
    return {
        "total": {"claims": count, "amount": int(total_amount), "flagged": flagged},
        "by_type_and_month": months,
        "flagged_by_code": codes,
    }


@router.get("/claims/{claim_id}", tags=["claims"])
async def get_claim(claim_id: str, rt: RuntimeDep, who: Reader) -> dict[str, Any]:
    """One claim with all its flags."""
    async with rt.engine.connect() as conn:
        row = (await conn.execute(select(claims).where(claims.c.claim_id == claim_id))).first()
    # Another regency's claim is not found, like a claim nobody recorded: no oracle (a claim of an
    # unknown participant has no regency: province-wide roles only).
    if row is None or not who.may_see_regency(row.regency_code or ""):
        raise HTTPException(404, {"code": "CLAIM_NOT_FOUND", "message": "Klaim tidak ditemukan."})
    return _public(row)
