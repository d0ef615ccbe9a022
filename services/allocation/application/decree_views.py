"""Read side of allocation's decrees: the decrees of a programme, one decree with its changes,
and its annex (lampiran), as recorded in the read models."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.allocation.adapters.annex import Annex, AnnexLine
from services.allocation.adapters.tables import decree_entries, decrees, programmes
from services.allocation.domain.decree import decree_kind_of
from services.allocation.domain.programme import DecreeKind


def _decree_json(r: Any, kind: DecreeKind) -> dict[str, Any]:
    return {
        "kind": kind.value,
        "version": r.version,
        "decree_number": r.decree_number,
        "decree_date": r.decree_date.isoformat(),
        "signer": r.signer,
        "list_sha256": r.list_sha256,
        "worker_count": r.worker_count,
        "total_cost": r.total_cost,
        "cost_per_worker": r.cost_per_worker,
        "budget_cap": r.budget_cap,
        "added": r.added,
        "removed": r.removed,
        "supersedes": r.supersedes,
        "issued_at": r.issued_at.isoformat(),
    }


async def list_decrees(conn: AsyncConnection, code: str) -> list[dict[str, Any]]:
    """The programme's decrees, first to latest."""
    rows = await conn.execute(
        select(decrees).where(decrees.c.programme_code == code).order_by(decrees.c.version)
    )
    kind = await _decree_kind(conn, code)
    return [_decree_json(r, kind) for r in rows]


async def _decree_kind(conn: AsyncConnection, code: str) -> DecreeKind:
    """The programme's kind of decree (every decree of a programme is of its kind)."""
    row = (await conn.execute(select(programmes).where(programmes.c.programme_code == code))).first()
    return decree_kind_of(row.definition.get("decree_kind") if row else None, row.jurisdiction if row else "")


async def decree(conn: AsyncConnection, code: str, version: int | None) -> dict[str, Any] | None:
    """One decree (the latest when `version` is None) with its changes against the previous one."""
    query = select(decrees).where(decrees.c.programme_code == code)
    query = query.where(decrees.c.version == version) if version else query.order_by(decrees.c.version.desc())
    row = (await conn.execute(query.limit(1))).first()
    if row is None:
        return None
    changes = await conn.execute(
        select(decree_entries)
        .where(
            and_(
                decree_entries.c.programme_code == code,
                decree_entries.c.version == row.version,
                (decree_entries.c.status == "removed") | decree_entries.c.added,
            )
        )
        .order_by(decree_entries.c.regency_code, decree_entries.c.full_name)
    )
    added, removed = [], []
    for e in changes:
        item = {
            "worker_id": e.worker_id,
            "regency_code": e.regency_code,
            "sector": e.sector,
            "full_name": e.full_name,
            "nik_masked": e.nik_masked,
        }
        if e.status == "removed":
            removed.append({**item, "release_reason": e.release_reason})
        elif row.version > 1:
            added.append(item)
    kind = await _decree_kind(conn, code)
    return {**_decree_json(row, kind), "changes": {"added": added, "removed": removed}}


async def decree_entries_of(conn: AsyncConnection, code: str, version: int) -> list[Any]:
    """The listed entries of one decree, ordered for the annex (regency, sector, name)."""
    rows = await conn.execute(
        select(decree_entries)
        .where(
            decree_entries.c.programme_code == code,
            decree_entries.c.version == version,
            decree_entries.c.status == "listed",
        )
        .order_by(
            decree_entries.c.regency_code,
            decree_entries.c.sector,
            decree_entries.c.full_name,
            decree_entries.c.worker_id,
        )
    )
    return list(rows)


async def removed_entries_of(conn: AsyncConnection, code: str, version: int) -> list[Any]:
    """Workers an SK perubahan took off the previous list."""
    rows = await conn.execute(
        select(decree_entries)
        .where(
            decree_entries.c.programme_code == code,
            decree_entries.c.version == version,
            decree_entries.c.status == "removed",
        )
        .order_by(decree_entries.c.regency_code, decree_entries.c.full_name)
    )
    return list(rows)


async def annex_of(conn: AsyncConnection, code: str, version: int | None) -> Annex | None:
    """The annex of one decree (the latest when `version` is None), as recorded."""
    query = select(decrees).where(decrees.c.programme_code == code)
    query = query.where(decrees.c.version == version) if version else query.order_by(decrees.c.version.desc())
    row = (await conn.execute(query.limit(1))).first()
    if row is None:
        return None
    prog = (await conn.execute(select(programmes).where(programmes.c.programme_code == code))).one()
    listed = await decree_entries_of(conn, code, row.version)
    removed = await removed_entries_of(conn, code, row.version)
    return Annex(
        programme_code=code,
        programme_name=prog.name,
        jurisdiction=prog.jurisdiction,
        decree_number=row.decree_number,
        decree_date=row.decree_date,
        signer=row.signer,
        version=row.version,
        supersedes=row.supersedes,
        list_sha256=row.list_sha256,
        premium_per_month=row.cost_per_worker // int(prog.definition["months"]),
        months=int(prog.definition["months"]),
        budget_cap=row.budget_cap,
        lines=[_line(e) for e in listed],
        added=frozenset(e.worker_id for e in listed if e.added and row.version > 1),
        removed=[_line(e) for e in removed],
        kind=decree_kind_of(prog.definition.get("decree_kind"), prog.jurisdiction),
    )


def _line(e: Any) -> AnnexLine:
    return AnnexLine(e.worker_id, e.regency_code, e.sector, e.full_name, e.nik_masked, e.release_reason)
