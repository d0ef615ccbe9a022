"""The read side: a programme's monitoring summary, for the whole province or one regency.

One summary feeds the JSON API, the page's charts and both reports, so the figures an officer sees
on screen, in the PDF and in the spreadsheet are the same numbers.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import BigInteger, Select, and_, cast, distinct, exists, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.regions import PROVINCE_CODE, kecamatan_of_regency
from services.dashboard.adapters.tables import (
    bills,
    claim_flags,
    claims,
    decrees,
    eventstore,
    nominations,
    placements,
    premiums,
    programmes,
    quotas,
)
from services.dashboard.domain import labels as lb
from services.dashboard.domain.figures import (
    FUNNEL,
    PLACEMENT_COUNTERS,
    Cell,
    Counters,
    budget,
    by_regency,
    by_sector,
    grouped,
    identities,
    rates,
    total,
)
from services.dashboard.domain.labels import PROVINCE_NAME, REGION_ORDER, regency_name

UNKNOWN_SECTOR = "tidak_diketahui"
UNKNOWN_KECAMATAN = "tidak_diketahui"


class ProgrammeNotFound(LookupError):
    """No ProgrammeDefined for this code has reached the dashboard."""


def _scoped(query: Select[Any], column: Any, regency: str | None) -> Select[Any]:
    return query.where(column == regency) if regency else query


async def list_programmes(conn: AsyncConnection) -> list[dict[str, Any]]:
    """The programmes the dashboard knows, newest year first."""
    query = select(programmes).order_by(programmes.c.year.desc(), programmes.c.programme_code)
    return [_programme_json(r) for r in await conn.execute(query)]


def _programme_json(r: Any) -> dict[str, Any]:
    return {
        "code": r.programme_code,
        "name": r.name,
        "year": r.year,
        "funder": r.funder,
        "funder_label": lb.label(lb.FUNDER_LABELS, r.funder),
        "jurisdiction": r.jurisdiction,
        "months": r.months,
        "premium_per_month": r.premium_jkk + r.premium_jkm,
        "cost_per_worker": r.cost_per_worker,
        "budget_cap": r.budget_cap,
        "requires_decree": r.requires_decree,
        "coverage_start": r.coverage_start.isoformat(),
        "coverage_end": r.coverage_end.isoformat(),
        "village_cap": r.village_cap,
    }


def _placement_kecamatan() -> Any:
    """A placement's kecamatan: of the desa its allocation event carried, else of the worker's
    latest nomination in the programme (the registry's events may be consumed after allocation's)."""
    p, n = placements.c, nominations.c
    nominated_in = (
        select(n.kecamatan_code)
        .where(n.programme_code == p.programme_code, n.worker_id == p.worker_id)
        .where(n.kecamatan_code.is_not(None))
        .order_by(n.updated_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    return func.coalesce(p.kecamatan_code, nominated_in, UNKNOWN_KECAMATAN)


async def _cells(
    conn: AsyncConnection, code: str, regency: str | None, requires_decree: bool, per_kecamatan: bool = False
) -> dict[Cell, Counters]:
    """Counters per regency × sector; with `per_kecamatan`, per kecamatan × sector instead (no
    seats: quotas are set per regency), UNKNOWN_KECAMATAN where no kecamatan is known."""
    cells: dict[Cell, Counters] = defaultdict(Counters)
    n = nominations.c
    sector = func.coalesce(n.sector, UNKNOWN_SECTOR)
    nominated_area = func.coalesce(n.kecamatan_code, UNKNOWN_KECAMATAN) if per_kecamatan else n.regency_code
    # A withdrawn nomination counts as withdrawn only: the four stages partition the nominations.
    standing = n.withdrawn.is_(False)
    rows = await conn.execute(
        _scoped(
            select(
                nominated_area.label("area"),
                sector.label("sector"),
                func.count().label("nominated"),
                func.count().filter(standing, n.outcome == "validated").label("validated"),
                func.count().filter(standing, n.outcome == "rejected").label("rejected"),
                func.count().filter(n.withdrawn.is_(True)).label("withdrawn"),
                func.count().filter(standing, n.outcome.is_(None)).label("pending"),
            )
            .where(n.programme_code == code)
            .group_by(nominated_area, sector),
            n.regency_code,
            regency,
        )
    )
    for r in rows:
        c = cells[(r.area, r.sector)]
        c.nominated, c.validated, c.rejected = r.nominated, r.validated, r.rejected
        c.withdrawn, c.pending = r.withdrawn, r.pending
    p = placements.c
    holding = p.quota_status == "assigned"
    # Registration at BPJS is due once the seat is decreed, or at once where no decree is needed.
    due = true() if not requires_decree else p.decree_number.is_not(None)
    enrolled = and_(holding, p.enrolment == "enrolled")
    failed = p.enrolment == "failed"
    registering = and_(holding, p.enrolment.is_(None), due)
    placed_sector = func.coalesce(p.sector, UNKNOWN_SECTOR)
    placed_area = _placement_kecamatan() if per_kecamatan else p.regency_code
    rows = await conn.execute(
        _scoped(
            select(
                placed_area.label("area"),
                placed_sector.label("sector"),
                func.count().filter(p.quota_status.is_not(None)).label("decided"),
                func.count().filter(holding).label("assigned"),
                func.count().filter(p.quota_status == "waitlisted").label("waitlisted"),
                func.count().filter(p.quota_status == "declined").label("declined"),
                func.count().filter(p.quota_status == "released").label("released"),
                func.count().filter(holding, p.decree_number.is_not(None)).label("decreed"),
                func.count().filter(or_(enrolled, failed, registering)).label("requested"),
                func.count().filter(enrolled).label("enrolled"),
                func.count().filter(failed).label("failed"),
                func.count().filter(registering).label("registering"),
                func.count().filter(p.ever_lapsed.is_(True)).label("lapsed"),
                func.count()
                .filter(holding, p.lapsed_on.is_not(None), p.membership_ended_on.is_(None))
                .label("in_arrears"),
                func.count().filter(p.membership_ended_on.is_not(None)).label("membership_ended"),
            )
            .where(p.programme_code == code, p.regency_code.is_not(None))
            .group_by(placed_area, placed_sector),
            p.regency_code,
            regency,
        )
    )
    for r in rows:
        c = cells[(r.area, r.sector)]
        for name in PLACEMENT_COUNTERS:
            setattr(c, name, getattr(r, name))
    if per_kecamatan:
        return dict(cells)
    q = quotas.c
    seats = select(q.regency_code, q.sector, q.seats).where(q.programme_code == code)
    for r in await conn.execute(_scoped(seats, q.regency_code, regency)):
        cells[(r.regency_code, r.sector)].seats += r.seats
    return dict(cells)


async def _reasons(
    conn: AsyncConnection, code: str, regency: str | None, status: str, reason: Any, unknown: str
) -> dict[str, int]:
    """Workers of quota `status` now, by their `reason` column (`unknown` where it is empty)."""
    p = placements.c
    query = (
        select(reason.label("reason"), func.count().label("n"))
        .where(p.programme_code == code, p.quota_status == status)
        .group_by(reason)
    )
    rows = await conn.execute(_scoped(query, p.regency_code, regency))
    return {r.reason or unknown: r.n for r in rows}


async def _villages(conn: AsyncConnection, code: str, regency: str | None, cap: int) -> list[dict[str, Any]]:
    """Seats held per desa against the programme's village cap (desa with a seat holder)."""
    p = placements.c
    rows = await conn.execute(
        _scoped(
            select(p.regency_code, p.desa_code, func.count().label("assigned"))
            .where(p.programme_code == code, p.quota_status == "assigned", p.desa_code.is_not(None))
            .group_by(p.regency_code, p.desa_code)
            .order_by(p.desa_code),
            p.regency_code,
            regency,
        )
    )
    return [
        {
            "code": r.desa_code,
            "name": lb.desa_name(r.desa_code),
            "regency": r.regency_code,
            "assigned": r.assigned,
            "cap": cap,
            "full": r.assigned >= cap,
        }
        for r in rows
    ]


async def _kecamatan(
    conn: AsyncConnection, code: str, regency: str, requires_decree: bool, cost: int
) -> list[dict[str, Any]]:
    """One row per kecamatan of one regency with the regency row's worker figures (a worker
    counts in the kecamatan of their desa, else of their NIK), and one for workers of no known
    kecamatan of the regency if any: the rows add up to the regency's. Seats, premiums and claims
    are not kept per worker's kecamatan, so they are not in these rows."""
    counters = by_regency(await _cells(conn, code, regency, requires_decree, per_kecamatan=True))
    known = kecamatan_of_regency(regency)
    codes = {k.code for k in known}
    unknown = Counters()
    for area, c in counters.items():
        if area not in codes:
            unknown.add(c)
    areas = [(k.code, k.name, counters.get(k.code, Counters())) for k in known]
    if unknown != Counters():
        areas.append((UNKNOWN_KECAMATAN, lb.UNKNOWN_KECAMATAN_NAME, unknown))
    rows = []
    for area, name, c in areas:
        figures = {k: v for k, v in c.as_dict().items() if k != "seats"}
        rows.append({"code": area, "name": name, **figures, "committed": c.assigned * cost})
    return rows


async def _bills(conn: AsyncConnection, code: str, regency: str | None) -> list[Any]:
    b = bills.c
    return list(
        await conn.execute(
            _scoped(
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


async def _claim_kinds(conn: AsyncConnection, code: str, regency: str | None) -> list[dict[str, Any]]:
    c = claims.c
    flagged = exists().where(claim_flags.c.claim_id == c.claim_id)
    rows = await conn.execute(
        _scoped(
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


async def _rejections(conn: AsyncConnection, code: str, regency: str | None) -> dict[str, int]:
    n = nominations.c
    reason = func.unnest(n.reason_codes).label("code")
    inner = _scoped(
        select(reason).where(n.programme_code == code, n.outcome == "rejected"), n.regency_code, regency
    ).subquery()
    rows = await conn.execute(
        select(inner.c.code, func.count().label("n")).group_by(inner.c.code).order_by(inner.c.code)
    )
    return {r.code: r.n for r in rows}


async def _failures(conn: AsyncConnection, code: str, regency: str | None) -> dict[str, int]:
    p = placements.c
    rows = await conn.execute(
        _scoped(
            select(p.failure_code, func.count().label("n"))
            .where(p.programme_code == code, p.enrolment == "failed")
            .group_by(p.failure_code),
            p.regency_code,
            regency,
        )
    )
    return {r.failure_code or "OTHER": r.n for r in rows}


async def _premiums(conn: AsyncConnection, code: str, regency: str | None) -> list[Any]:
    m = premiums.c
    return list(
        await conn.execute(
            _scoped(
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


async def _claims(conn: AsyncConnection, code: str, regency: str | None) -> list[Any]:
    c = claims.c
    month = func.to_char(c.paid_date, "YYYY-MM").label("month")
    flagged = exists().where(claim_flags.c.claim_id == c.claim_id)
    return list(
        await conn.execute(
            _scoped(
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


async def _claim_flags(conn: AsyncConnection, code: str, regency: str | None) -> dict[str, int]:
    c = claims.c
    rows = await conn.execute(
        _scoped(
            select(claim_flags.c.code, func.count(distinct(c.claim_id)).label("claims"))
            .select_from(claims.join(claim_flags, claim_flags.c.claim_id == c.claim_id))
            .where(c.programme_code == code)
            .group_by(claim_flags.c.code),
            c.regency_code,
            regency,
        )
    )
    return {r.code: r.claims for r in rows}


def _region_sort_key(code: str) -> tuple[int, str]:
    return (REGION_ORDER.get(code, len(REGION_ORDER)), code)


def _empty() -> dict[str, int]:
    return {"claims": 0, "amount": 0, "flagged": 0}


def _claims_json(rows: list[Any]) -> dict[str, Any]:
    months: dict[str, dict[str, dict[str, int]]] = {}
    totals = {"JKK": _empty(), "JKM": _empty()}
    for r in rows:
        month = months.setdefault(r.month, {"JKK": _empty(), "JKM": _empty()})
        for bucket in (month.setdefault(r.claim_type, _empty()), totals.setdefault(r.claim_type, _empty())):
            bucket["claims"] += r.claims
            bucket["amount"] += int(r.amount or 0)
            bucket["flagged"] += r.flagged
    return {
        "by_month": [{"month": m, "label": lb.month_label(m), **months[m]} for m in sorted(months)],
        "totals": totals,
    }


def _by_regency_money(
    premium_rows: list[Any], claim_rows: list[Any]
) -> tuple[dict[str, int], dict[str, dict[str, int]], list[dict[str, Any]]]:
    """Premiums paid and claims per regency, and premiums per month."""
    paid: dict[str, int] = defaultdict(int)
    per_month: dict[str, dict[str, int]] = {}
    for r in premium_rows:
        paid[r.regency_code] += int(r.total)
        month = per_month.setdefault(r.month, {"workers": 0, "total": 0})
        month["workers"] += int(r.workers)
        month["total"] += int(r.total)
    claimed: dict[str, dict[str, int]] = defaultdict(_empty)
    for r in claim_rows:
        if r.regency_code is not None:
            slot = claimed[r.regency_code]
            slot["claims"] += r.claims
            slot["amount"] += int(r.amount or 0)
            slot["flagged"] += r.flagged
    months = [{"month": m, "label": lb.month_label(m), **per_month[m]} for m in sorted(per_month)]
    return dict(paid), dict(claimed), months


def _regency_rows(
    cells: dict[Cell, Counters],
    cost: int,
    paid: dict[str, int],
    claimed: dict[str, dict[str, int]],
    regency: str | None,
) -> list[dict[str, Any]]:
    """One row per regency: all 33 (and any unknown code seen) province-wide, else the one."""
    counters = by_regency(cells)
    shown = {regency} if regency else set(counters) | set(paid) | set(claimed) | set(REGION_ORDER)
    rows = []
    for code in sorted(shown, key=_region_sort_key):
        c = counters.get(code, Counters())
        money = budget(c, cost, paid.get(code, 0), None)
        claims_here = claimed.get(code, _empty())
        rows.append(
            {
                "code": code,
                "name": regency_name(code),
                **c.as_dict(),
                "allotment": money.allotment,
                "committed": money.committed,
                "paid": money.paid,
                "claims": claims_here["claims"],
                "claims_amount": claims_here["amount"],
            }
        )
    return rows


def _billed_vs_paid(bill_rows: list[Any], premium_rows: list[Any], funder: str) -> list[dict[str, Any]]:
    """Premiums billed and paid per month and funder (a payment older than its funder's column
    counts under the programme's funder)."""
    slots: dict[tuple[str, str], dict[str, int]] = {}

    def slot(month: str, who: str) -> dict[str, int]:
        return slots.setdefault(
            (month, who or funder), {"billed_workers": 0, "billed": 0, "paid_workers": 0, "paid": 0}
        )

    for r in bill_rows:
        row = slot(r.month, r.funder)
        row["billed_workers"] += int(r.workers)
        row["billed"] += int(r.total)
    for r in premium_rows:
        row = slot(r.month, r.funder)
        row["paid_workers"] += int(r.workers)
        row["paid"] += int(r.total)
    return [
        {
            "month": m,
            "label": lb.month_label(m),
            "funder": f,
            "funder_label": lb.label(lb.FUNDER_LABELS, f),
            **v,
            "unpaid": v["billed"] - v["paid"],
        }
        for (m, f), v in sorted(slots.items())
    ]


def scope_json(prog: Any, regency: str | None) -> dict[str, Any]:
    """Which area the figures cover: the province, or one regency (a regency programme always
    covers its own regency), and the programme's per-village cap."""
    regency_programme = prog.jurisdiction != PROVINCE_CODE
    area = regency or (prog.jurisdiction if regency_programme else None)
    return {
        "kind": "regency" if regency_programme else "province",
        # The whole programme is in view (its budget cap applies), not a regency's slice of it.
        "whole_programme": area is None or area == prog.jurisdiction,
        "regency_code": prog.jurisdiction if regency_programme else None,
        "per_village_cap": prog.village_cap,
        "regency": area,
        "name": regency_name(area) if area else PROVINCE_NAME,
    }


async def summary(conn: AsyncConnection, code: str, regency: str | None = None) -> dict[str, Any]:
    """Everything the dashboard shows for programme `code`, province-wide or for one regency."""
    prog = (await conn.execute(select(programmes).where(programmes.c.programme_code == code))).first()
    if prog is None:
        raise ProgrammeNotFound(code)
    scope = scope_json(prog, regency)
    area = scope["regency"]
    cells = await _cells(conn, code, area, prog.requires_decree)
    claim_rows = await _claims(conn, code, area)
    premium_rows = await _premiums(conn, code, area)
    bill_rows = await _bills(conn, code, area)
    paid, claimed, premium_months = _by_regency_money(premium_rows, claim_rows)
    counts = total(cells.values())
    cap = prog.budget_cap if scope["whole_programme"] else None
    money = budget(counts, prog.cost_per_worker, sum(paid.values()), cap)
    claims_json = _claims_json(claim_rows)
    claim_totals = claims_json["totals"].values()
    sectors = by_sector(cells)
    last = (await conn.execute(select(func.max(eventstore.inbox.c.consumed_at)))).scalar_one()
    decree_rows = await _decrees(conn, code)
    totals = {
        **counts.as_dict(),
        "committed": money.committed,
        "billed": sum(int(r.total) for r in bill_rows),
        "paid": money.paid,
        "claims": sum(t["claims"] for t in claim_totals),
        "claims_amount": sum(t["amount"] for t in claim_totals),
        "claims_flagged": sum(t["flagged"] for t in claim_totals),
        "decrees": len(decree_rows),
        "decree_changes": max(len(decree_rows) - 1, 0),
    }
    rejections = _ranked(await _rejections(conn, code, area), lb.REJECTION_LABELS)
    return {
        "programme": _programme_json(prog),
        "scope": scope,
        "totals": totals,
        "identities": identities(counts),
        "rates": rates(totals, money.as_dict()),
        "budget": money.as_dict(),
        "funnel": [
            {"stage": stage, "label": lb.FUNNEL_LABELS[stage], "count": getattr(counts, stage)}
            for stage in FUNNEL
        ],
        "sectors": [
            {"sector": s, "label": lb.label(lb.SECTOR_LABELS, s), **sectors[s].as_dict()}
            for s in sorted(sectors)
        ],
        "cells": [
            {"regency": r, "sector": s, **c.as_dict()}
            for (r, s), c in sorted(cells.items(), key=lambda kv: (_region_sort_key(kv[0][0]), kv[0][1]))
        ],
        "rejections": rejections,
        "rejections_chart": grouped(rejections),
        "releases": _ranked(
            await _reasons(conn, code, area, "released", placements.c.release_reason, "unknown"),
            lb.RELEASE_LABELS,
        ),
        "waitlist_reasons": _ranked(
            await _reasons(conn, code, area, "waitlisted", placements.c.waitlist_reason, "no_seat"),
            lb.WAITLIST_LABELS,
        ),
        "failures": _ranked(await _failures(conn, code, area), lb.ENROLMENT_FAILURE_LABELS),
        "claims": {
            **claims_json,
            "kinds": await _claim_kinds(conn, code, area),
            "flags": _ranked(await _claim_flags(conn, code, area), lb.CLAIM_FLAG_LABELS),
        },
        "premiums": premium_months,
        "billing": _billed_vs_paid(bill_rows, premium_rows, prog.funder),
        "decrees": decree_rows,
        "villages": await _villages(conn, code, area, prog.village_cap) if prog.village_cap else [],
        "kecamatan": (
            await _kecamatan(conn, code, area, prog.requires_decree, prog.cost_per_worker) if area else []
        ),
        "regencies": _regency_rows(cells, prog.cost_per_worker, paid, claimed, area),
        "as_of": datetime.now(UTC).isoformat(),
        "last_event_at": last.isoformat() if last else None,
    }


def _ranked(counts: dict[str, int], table: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {"code": code, "label": lb.label(table, code), "count": n}
        for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


async def _decrees(conn: AsyncConnection, code: str) -> list[dict[str, Any]]:
    d = decrees.c
    rows = await conn.execute(select(decrees).where(d.programme_code == code).order_by(d.version))
    return [
        {
            "version": r.version,
            "number": r.decree_number,
            "date": r.decree_date.isoformat(),
            "signer": r.signer,
            "worker_count": r.worker_count,
            "total_cost": r.total_cost,
            "added": r.added,
            "removed": r.removed,
        }
        for r in rows
    ]
