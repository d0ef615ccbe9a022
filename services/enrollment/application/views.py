"""Enrollment's read side: the answers of its HTTP API, from its read models.

Registrations with where each worker stands today, the counts of what BPJS's answers did, the
month's premium bill, and coverage on a day with its proof. A caller sees only the regencies it
may see (`may_see_regency`): another regency's worker is not there for them (docs/security.md,
"No oracles across regencies").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.enrollment.adapters import answer_outcomes
from services.enrollment.adapters.tables import bills, registrations
from services.enrollment.application.coverage import answer_for, coverage_of, ledgers_of
from services.enrollment.domain.coverage import CoverageLedger, CoveragePolicy
from services.enrollment.domain.months import YearMonth
from services.enrollment.domain.scope import visible_registrations

MaySee = Callable[[str], bool]


def _standing(ledger: CoverageLedger | None, today: date, policy: CoveragePolicy) -> str | None:
    """Where an enrolled worker stands today (awaiting_premium, covered, in_arrears, lapsed,
    membership_ended, ended); None before BPJS enrolled them."""
    found = ledger.standing(today, policy) if ledger is not None else None
    return None if found is None else found.value


def _public(r: Any, standing: str | None = None) -> dict[str, Any]:
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
        "enrolled_on": r.enrolled_on.isoformat() if r.enrolled_on else None,
        "attempts": r.attempts,
        "retry_at": r.retry_at.isoformat() if r.retry_at else None,
        "reason_code": r.reason_code,
        "reason": r.reason,
        "continuing": r.continuing,
        "ended_on": r.ended_on.isoformat() if r.ended_on else None,
        "end_reason": r.end_reason,
        "last_month_billable": r.last_month_billable,
        "standing": standing,
    }


async def enrollments(
    conn: AsyncConnection,
    today: date,
    policy: CoveragePolicy,
    *,
    programme: str | None,
    status: str | None,
    regency: str | None,
    page: int,
    per_page: int,
) -> dict[str, Any]:
    """A page of registrations, filtered, each with where the worker stands today."""
    query = select(registrations)
    if programme:
        query = query.where(registrations.c.programme_code == programme)
    if status:
        query = query.where(registrations.c.status == status)
    if regency:
        query = query.where(registrations.c.regency_code == regency)
    total = (await conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = (
        await conn.execute(
            query.order_by(registrations.c.requested_at, registrations.c.worker_id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
    ).all()
    ledgers = await ledgers_of(conn, [r.worker_id for r in rows])
    items = [_public(r, _standing(ledgers.get((r.worker_id, r.programme_code)), today, policy)) for r in rows]
    return {"total": total, "page": page, "per_page": per_page, "items": items}


async def stats(conn: AsyncConnection, programme: str | None, regency: str | None) -> dict[str, Any]:
    """Registrations per status (of `regency` only, when given) and what BPJS's answers did."""
    query = select(registrations.c.status, func.count()).group_by(registrations.c.status)
    if programme:
        query = query.where(registrations.c.programme_code == programme)
    if regency:
        query = query.where(registrations.c.regency_code == regency)
    by_status = {status: n for status, n in (await conn.execute(query)).all()}
    return {"by_status": by_status, "answers": await answer_outcomes.counts(conn, programme)}


async def worker_enrollments(
    conn: AsyncConnection, worker_id: str, today: date, policy: CoveragePolicy, may_see: MaySee
) -> list[dict[str, Any]]:
    """Every registration of one worker the caller may see (empty: none, or none visible)."""
    rows = (await conn.execute(select(registrations).where(registrations.c.worker_id == worker_id))).all()
    ledgers = await ledgers_of(conn, [worker_id])
    visible = visible_registrations(rows, may_see)
    return [_public(r, _standing(ledgers.get((worker_id, r.programme_code)), today, policy)) for r in visible]


def _bill_line(r: Any) -> dict[str, Any]:
    return {
        "bill_id": r.bill_id,
        "status": r.status,
        "workers": r.workers,
        "jkk_total": r.jkk_total,
        "jkm_total": r.jkm_total,
        "total": r.total,
        "attempts": r.attempts,
        "payment_ref": r.payment_ref,
        "paid_on": r.paid_on.isoformat() if r.paid_on else None,
        "reason_code": r.reason_code,
        "reason": r.reason,
    }


async def month_summary(
    conn: AsyncConnection, programme_code: str, month: YearMonth, regency: str | None = None
) -> dict[str, Any]:
    """The month's bill per funder and regency: lines, payments and totals (refused lines apart);
    with `regency`, that regency's lines only."""
    query = select(bills).where(bills.c.programme_code == programme_code, bills.c.month == str(month))
    if regency:
        query = query.where(bills.c.regency_code == regency)
    rows = (await conn.execute(query.order_by(bills.c.funder, bills.c.regency_code, bills.c.bill_id))).all()
    keys = ("workers", "jkk_total", "jkm_total", "total", "workers_paid", "paid_total")
    per: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        empty = {"funder": r.funder, "regency_code": r.regency_code} | dict.fromkeys(keys, 0) | {"bills": []}
        line = per.setdefault((r.funder, r.regency_code), empty)
        if r.status != "failed":
            for k in ("workers", "jkk_total", "jkm_total", "total"):
                line[k] += getattr(r, k)
        if r.status == "paid":
            line["workers_paid"] += r.workers
            line["paid_total"] += r.total
        line["bills"].append(_bill_line(r))
    lines = list(per.values())
    statuses = [b["status"] for line in lines for b in line["bills"]]
    return {
        "programme_code": programme_code,
        "month": str(month),
        "lines": lines,
        "totals": {k: sum(line[k] for line in lines) for k in keys},
        "bills": {s: statuses.count(s) for s in ("requested", "paid", "failed")},
        "settled": all(s != "requested" for s in statuses),
    }


async def masked_nik(conn: AsyncConnection, worker_id: str, may_see: MaySee) -> str | None:
    """The worker's NIK, masked, if the caller may see one of their registrations."""
    rows = await conn.execute(
        select(registrations.c.nik_masked, registrations.c.regency_code).where(
            registrations.c.worker_id == worker_id
        )
    )
    seen = visible_registrations(rows, may_see)
    return seen[0].nik_masked if seen else None


_NOT_ENROLLED = {
    "covered": False,
    "reason": "NOT_ENROLLED",
    "end_reason": None,
    "ended_on": None,
    "programme_code": None,
    "funder": None,
    "period": None,
    "proof": [],
    "programmes": [],
}


async def coverage(
    conn: AsyncConnection,
    worker_id: str,
    on: date,
    known_at: date | None,
    programme: str | None,
    policy: CoveragePolicy,
    may_see: MaySee,
) -> dict[str, Any]:
    """Whether the worker was covered on `on` (from the facts known at `known_at`), under which
    programme and funder, why, the covered period, and the events that prove it."""
    ledgers = await coverage_of(conn, worker_id)
    rows = await conn.execute(select(registrations).where(registrations.c.worker_id == worker_id))
    # An officer learns only about registrations of their own regency: a person registered
    # elsewhere gets the very answer of a person never registered (NOT_ENROLLED), no 403.
    regs = {r.programme_code: r for r in visible_registrations(rows, may_see)}
    ledgers = [pc for pc in ledgers if pc.programme_code in regs]
    if programme:
        ledgers = [pc for pc in ledgers if pc.programme_code == programme]
    answers = []
    for pc in ledgers:
        answer = answer_for(pc, on, policy, known_at)
        reg = regs.get(pc.programme_code)
        if reg is not None:
            answer |= {"funder": reg.funder, "regency_code": reg.regency_code, "kpj": reg.kpj}
        answers.append(answer)
    chosen = next((a for a in answers if a["covered"]), answers[0] if answers else None)
    head: dict[str, Any] = {
        "worker_id": worker_id,
        "on": on.isoformat(),
        "known_at": known_at and known_at.isoformat(),
    }
    if chosen is None:
        return head | _NOT_ENROLLED | {"proof": [], "programmes": []}
    return head | {
        "covered": chosen["covered"],
        "reason": chosen["reason"],
        "end_reason": chosen["end_reason"],
        "ended_on": chosen["ended_on"],
        "programme_code": chosen["programme_code"],
        "funder": chosen.get("funder"),
        "regency_code": chosen.get("regency_code"),
        "kpj": chosen.get("kpj"),
        "period": chosen["period"],
        "proof": chosen["proof"],
        "programmes": answers,
    }
