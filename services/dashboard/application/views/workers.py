"""Worker counts of a programme: counters per regency (or kecamatan) × sector, and workers by
reason (rejected, released, waiting, failed at BPJS) and by desa."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.regions import kecamatan_of_regency
from services.dashboard.adapters.tables import nominations, placements, quotas
from services.dashboard.application.views.scope import UNKNOWN_KECAMATAN, UNKNOWN_SECTOR, scoped
from services.dashboard.domain import labels as lb
from services.dashboard.domain.figures import PLACEMENT_COUNTERS, Cell, Counters, by_regency


def placement_kecamatan() -> Any:
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


async def cells_of(
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
        scoped(
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
    placed_area = placement_kecamatan() if per_kecamatan else p.regency_code
    rows = await conn.execute(
        scoped(
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
    for r in await conn.execute(scoped(seats, q.regency_code, regency)):
        cells[(r.regency_code, r.sector)].seats += r.seats
    return dict(cells)


async def reasons_of(
    conn: AsyncConnection, code: str, regency: str | None, status: str, reason: Any, unknown: str
) -> dict[str, int]:
    """Workers of quota `status` now, by their `reason` column (`unknown` where it is empty)."""
    p = placements.c
    query = (
        select(reason.label("reason"), func.count().label("n"))
        .where(p.programme_code == code, p.quota_status == status)
        .group_by(reason)
    )
    rows = await conn.execute(scoped(query, p.regency_code, regency))
    return {r.reason or unknown: r.n for r in rows}


async def villages_of(
    conn: AsyncConnection, code: str, regency: str | None, cap: int
) -> list[dict[str, Any]]:
    """Seats held per desa against the programme's village cap (desa with a seat holder)."""
    p = placements.c
    rows = await conn.execute(
        scoped(
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


async def kecamatan_rows(
    conn: AsyncConnection, code: str, regency: str, requires_decree: bool, cost: int
) -> list[dict[str, Any]]:
    """One row per kecamatan of one regency with the regency row's worker figures (a worker
    counts in the kecamatan of their desa, else of their NIK), and one for workers of no known
    kecamatan of the regency if any: the rows add up to the regency's. Seats, premiums and claims
    are not kept per worker's kecamatan, so they are not in these rows."""
    counters = by_regency(await cells_of(conn, code, regency, requires_decree, per_kecamatan=True))
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


async def rejections_of(conn: AsyncConnection, code: str, regency: str | None) -> dict[str, int]:
    """Rejected nominations per reason code (one nomination may have several)."""
    n = nominations.c
    reason = func.unnest(n.reason_codes).label("code")
    inner = scoped(
        select(reason).where(n.programme_code == code, n.outcome == "rejected"), n.regency_code, regency
    ).subquery()
    rows = await conn.execute(
        select(inner.c.code, func.count().label("n")).group_by(inner.c.code).order_by(inner.c.code)
    )
    return {r.code: r.n for r in rows}


async def failures_of(conn: AsyncConnection, code: str, regency: str | None) -> dict[str, int]:
    """Failed BPJS registrations per reason code."""
    p = placements.c
    rows = await conn.execute(
        scoped(
            select(p.failure_code, func.count().label("n"))
            .where(p.programme_code == code, p.enrolment == "failed")
            .group_by(p.failure_code),
            p.regency_code,
            regency,
        )
    )
    return {r.failure_code or "OTHER": r.n for r in rows}
