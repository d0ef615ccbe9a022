"""The claims read side: the claims ledger, one claim, and a monthly summary, as HTTP answers
them. No NIK is ever shown (the service does not keep one)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import BigInteger, and_, cast, func, literal_column, select, true
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.sql.elements import ColumnElement

from services.claims.adapters.tables import claims


class MonthInvalid(ValueError):
    """A month outside the dates PostgreSQL and Python both support."""


@dataclass(frozen=True)
class ClaimFilter:
    """Which claims a listing or summary covers (None: any)."""

    programme: str | None = None
    regency: str | None = None
    type_: str | None = None
    month: str | None = None
    flagged: bool | None = None
    flag: str | None = None
    kpj: str | None = None
    worker_id: str | None = None


def public(r: Any) -> dict[str, Any]:
    """One claims row as the API shows it."""
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


def month_range(month: str) -> tuple[date, date]:
    """The first day of `month` (YYYY-MM) and of the month after; MonthInvalid outside dates."""
    year, mon = int(month[:4]), int(month[5:])
    try:
        start = date(year, mon, 1)
        end = date(year + mon // 12, mon % 12 + 1, 1)
    except ValueError:  # year 0000, or 9999-12 (its next month has no date)
        raise MonthInvalid(month) from None
    return start, end


def _where(f: ClaimFilter) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if f.programme:
        where.append(claims.c.programme_code == f.programme)
    if f.regency:
        where.append(claims.c.regency_code == f.regency)
    if f.type_:
        where.append(claims.c.programme == f.type_)
    if f.month:
        start, end = month_range(f.month)
        where.append(and_(claims.c.paid_date >= start, claims.c.paid_date < end))
    if f.flagged is not None:
        where.append(claims.c.flagged.is_(f.flagged))
    if f.flag:
        where.append(claims.c.flags.contains([{"code": f.flag}]))
    if f.kpj:
        where.append(claims.c.kpj == f.kpj)
    if f.worker_id:
        where.append(claims.c.worker_id == f.worker_id)
    return where


async def list_claims(engine: AsyncEngine, f: ClaimFilter, page: int, per_page: int) -> dict[str, Any]:
    """One page of claims, newest payment first."""
    query = select(claims).where(*_where(f))
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = await conn.execute(
            query.order_by(claims.c.paid_date.desc(), claims.c.claim_id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        return {"total": total, "page": page, "per_page": per_page, "items": [public(r) for r in rows]}


async def claims_summary(engine: AsyncEngine, f: ClaimFilter) -> dict[str, Any]:
    """Counts and amounts by type and month of payment; flagged claims by flag code."""
    where = _where(f)
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
    async with engine.connect() as conn:
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


async def claim(engine: AsyncEngine, claim_id: str) -> Any | None:
    """One claims row (None: no such claim)."""
    async with engine.connect() as conn:
        return (await conn.execute(select(claims).where(claims.c.claim_id == claim_id))).first()
