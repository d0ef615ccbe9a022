"""Money and claims of a programme as query rows: bills, premiums paid, claims and their flags."""

from __future__ import annotations

from typing import Any

from sqlalchemy import BigInteger, cast, distinct, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.dashboard.adapters.tables import bills, claim_flags, claims, premiums
from services.dashboard.application.views.scope import scoped
from services.dashboard.domain import labels as lb


async def bills_of(conn: AsyncConnection, code: str, regency: str | None) -> list[Any]:
    """Premiums billed per month and funder."""
    b = bills.c
    return list(
        await conn.execute(
            scoped(
                select(
                    b.month,
                    b.funder,
                    cast(func.sum(b.workers), BigInteger).label("workers"),
                    cast(func.sum(b.total), BigInteger).label("total"),
                )
                .where(b.programme_code == code)
                .group_by(b.month, b.funder),
                b.regency_code,
                regency,
            )
        )
    )


async def premiums_of(conn: AsyncConnection, code: str, regency: str | None) -> list[Any]:
    """Premiums paid per regency, month and funder."""
    m = premiums.c
    return list(
        await conn.execute(
            scoped(
                select(
                    m.regency_code,
                    m.month,
                    m.funder,
                    cast(func.sum(m.workers), BigInteger).label("workers"),
                    cast(func.sum(m.total), BigInteger).label("total"),
                )
                .where(m.programme_code == code)
                .group_by(m.regency_code, m.month, m.funder),
                m.regency_code,
                regency,
            )
        )
    )


async def claims_of(conn: AsyncConnection, code: str, regency: str | None) -> list[Any]:
    """Claims per regency, programme (JKK/JKM) and paid month, with how many are flagged."""
    c = claims.c
    month = func.to_char(c.paid_date, "YYYY-MM").label("month")
    flagged = exists().where(claim_flags.c.claim_id == c.claim_id)
    return list(
        await conn.execute(
            scoped(
                select(
                    c.regency_code,
                    c.claim_type,
                    month,
                    func.count().label("claims"),
                    cast(func.sum(c.amount), BigInteger).label("amount"),
                    func.count().filter(flagged).label("flagged"),
                )
                .where(c.programme_code == code)
                .group_by(c.regency_code, c.claim_type, month),
                c.regency_code,
                regency,
            )
        )
    )


async def claim_kinds_of(conn: AsyncConnection, code: str, regency: str | None) -> list[dict[str, Any]]:
    """Claims per programme and benefit kind, labelled."""
    c = claims.c
    flagged = exists().where(claim_flags.c.claim_id == c.claim_id)
    rows = await conn.execute(
        scoped(
            select(
                c.claim_type,
                c.benefit_kind,
                func.count().label("claims"),
                cast(func.sum(c.amount), BigInteger).label("amount"),
                func.count().filter(flagged).label("flagged"),
            )
            .where(c.programme_code == code)
            .group_by(c.claim_type, c.benefit_kind)
            .order_by(c.claim_type, c.benefit_kind),
            c.regency_code,
            regency,
        )
    )
    return [
        {
            "type": r.claim_type,
            "kind": r.benefit_kind,
            "label": f"{r.claim_type}: {lb.label(lb.CLAIM_KIND_LABELS, r.benefit_kind)}",
            "claims": r.claims,
            "amount": int(r.amount or 0),
            "flagged": r.flagged,
        }
        for r in rows
    ]


async def claim_flags_of(conn: AsyncConnection, code: str, regency: str | None) -> dict[str, int]:
    """Claims per flag code (a claim counts once under each of its codes)."""
    c = claims.c
    rows = await conn.execute(
        scoped(
            select(claim_flags.c.code, func.count(distinct(c.claim_id)).label("claims"))
            .select_from(claims.join(claim_flags, claim_flags.c.claim_id == c.claim_id))
            .where(c.programme_code == code)
            .group_by(claim_flags.c.code),
            c.regency_code,
            regency,
        )
    )
    return {r.code: r.claims for r in rows}
