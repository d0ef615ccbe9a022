"""Projection of a DecreeIssued: the seated list snapshotted as the decree's entries, checked
against the decree's hash, with the changes against the previous decree."""

from __future__ import annotations

from sqlalchemy import and_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.decree_list import list_sha256
from libs.events import Envelope
from libs.events.contracts import allocation as wire
from libs.pii import mask_nik
from services.allocation.adapters.tables import assignments, decree_entries, decrees, programmes


class DecreeListMismatch(RuntimeError):
    """The assigned workers in the read model do not hash to the decree's list: never ignore."""


async def project_decree(conn: AsyncConnection, event: wire.DecreeIssued, envelope: Envelope) -> None:
    """Snapshot the assigned list as the decree's entries, with the diff against the previous one."""
    code = event.programme_code
    listed = (
        await conn.execute(
            select(
                assignments.c.worker_id,
                assignments.c.regency_code,
                assignments.c.sector,
                assignments.c.identity,
            ).where(assignments.c.programme_code == code, assignments.c.status == "assigned")
        )
    ).all()
    digest = list_sha256((r.worker_id, r.regency_code, r.sector) for r in listed)
    if digest != event.list_sha256 or len(listed) != event.worker_count:
        raise DecreeListMismatch(
            f"decree {event.decree_number} of {code}: the assigned workers hash to {digest}, "
            f"the decree says {event.list_sha256}"
        )
    previous = {
        r.worker_id: r
        for r in await conn.execute(
            select(decree_entries).where(
                and_(
                    decree_entries.c.programme_code == code,
                    decree_entries.c.version == event.version - 1,
                    decree_entries.c.status == "listed",
                )
            )
        )
    }
    now = {r.worker_id for r in listed}
    rows = [
        {
            "programme_code": code,
            "version": event.version,
            "worker_id": r.worker_id,
            "status": "listed",
            "added": r.worker_id not in previous,
            "regency_code": r.regency_code,
            "sector": r.sector,
            "full_name": r.identity["full_name"],
            "nik_masked": mask_nik(r.identity["nik"]),
            "release_reason": None,
        }
        for r in listed
    ]
    gone = [w for w in previous if w not in now]
    reasons = await _release_reasons(conn, code, gone)
    rows += [
        {
            "programme_code": code,
            "version": event.version,
            "worker_id": w,
            "status": "removed",
            "added": False,
            "regency_code": previous[w].regency_code,
            "sector": previous[w].sector,
            "full_name": previous[w].full_name,
            "nik_masked": previous[w].nik_masked,
            "release_reason": reasons.get(w),
        }
        for w in gone
    ]
    if rows:
        await conn.execute(insert(decree_entries), rows)
    cap = (
        await conn.execute(select(programmes.c.budget_cap).where(programmes.c.programme_code == code))
    ).scalar_one()
    await conn.execute(
        insert(decrees).values(
            programme_code=code,
            version=event.version,
            decree_number=event.decree_number,
            decree_date=event.decree_date,
            signer=event.signer,
            list_sha256=event.list_sha256,
            worker_count=event.worker_count,
            total_cost=event.total_cost,
            cost_per_worker=event.total_cost // event.worker_count if event.worker_count else 0,
            budget_cap=cap,
            added=event.added,
            removed=event.removed,
            supersedes=event.supersedes,
            issued_at=envelope.occurred_at,
        )
    )


async def _release_reasons(conn: AsyncConnection, code: str, worker_ids: list[str]) -> dict[str, str]:
    if not worker_ids:
        return {}
    rows = await conn.execute(
        select(assignments.c.worker_id, assignments.c.status, assignments.c.release_reason).where(
            assignments.c.programme_code == code, assignments.c.worker_id.in_(worker_ids)
        )
    )
    return {r.worker_id: r.release_reason if r.status == "released" else r.status for r in rows}
