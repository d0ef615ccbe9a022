"""The registry's read side: nominations (NIKs always masked, names for whoever answers for the
worker's regency), a nomination's history from the event log, programmes and reference data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.auth import Principal
from libs.events import Envelope, decode
from libs.events.contracts.registry import (
    NominationCorrected,
    NominationRevalidated,
    NominationWithdrawn,
    WorkerNominated,
    WorkerRejected,
    WorkerValidated,
)
from libs.eventstore.ports import Store
from libs.pii import mask_name, mask_nik
from services.registry.adapters.tables import nominations, programmes, reference_versions
from services.registry.domain.decisions import reason_of
from services.registry.domain.reference import reference_stream
from services.registry.domain.rules import nik_regency_note
from services.registry.domain.worker import stream_of


@dataclass(frozen=True)
class NominationFilter:
    """What a listing of nominations is narrowed to (None: any)."""

    regency: str | None = None
    status: str | None = None
    reason: str | None = None
    programme: str | None = None
    channel: str | None = None
    source_ref: str | None = None


def _notes(row: Any) -> list[dict[str, Any]]:
    """What the officer should see with a validated nomination: a NIK issued in another regency
    (had the programme required a match, the nomination would have been rejected instead)."""
    if row.status != "validated":
        return []
    return [reason_of(n).model_dump() for n in nik_regency_note(row.nik[:4], row.regency_code)]


def public(row: Any, who: Principal) -> dict[str, Any]:
    """A nomination as `who` may see it."""
    # NIKs are masked for everyone; names for whoever does not answer for the worker's regency.
    full_name = row.full_name if who.sees_personal_data(row.regency_code) else mask_name(row.full_name)
    return {
        "nomination_id": row.nomination_id,
        "worker_id": row.worker_id,
        "programme_code": row.programme_code,
        "regency_code": row.regency_code,
        "nik": mask_nik(row.nik),
        "full_name": full_name,
        "occupation": row.occupation,
        "sector": row.sector,
        "decile": row.decile,
        "funder": row.funder,
        "channel": row.channel,
        "source_ref": row.source_ref,
        "status": row.status,
        # What allocation and enrollment decided (docs/registry.md §3a), and who keeps the worker.
        "seat": row.seat,
        "held_by": row.held_by,
        "reasons": row.reasons,
        "notes": _notes(row),
        "poverty_source": row.poverty_source,
        "reference_version": row.reference_version,
        "corrections": row.corrections,
        "nominated_at": row.nominated_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


async def list_nominations(
    conn: AsyncConnection, who: Principal, where: NominationFilter, *, page: int, per_page: int
) -> dict[str, Any]:
    """One page of nominations, ordered by nomination time, with the total."""
    query = select(nominations)
    if where.regency:
        query = query.where(nominations.c.regency_code == where.regency)
    if where.status:
        query = query.where(nominations.c.status == where.status)
    if where.programme:
        query = query.where(nominations.c.programme_code == where.programme)
    if where.channel:
        query = query.where(nominations.c.channel == where.channel)
    if where.source_ref:
        query = query.where(nominations.c.source_ref == where.source_ref)
    if where.reason:
        query = query.where(nominations.c.reasons.contains([{"code": where.reason}]))
    total = (await conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await conn.execute(
        query.order_by(nominations.c.nominated_at, nominations.c.nomination_id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    items = [public(r, who) for r in rows]
    return {"total": total, "page": page, "per_page": per_page, "items": items}


async def nomination_row(conn: AsyncConnection, nomination_id: str) -> Any | None:
    """The nomination's read-model row (None: no such nomination)."""
    query = select(nominations).where(nominations.c.nomination_id == nomination_id)
    return (await conn.execute(query)).first()


async def nomination_history(store: Store, worker_id: str, nomination_id: str) -> list[dict[str, Any]]:
    """Every event of one nomination, oldest first, following a corrected NIK back to the streams
    it came from (NIKs masked, names left out)."""
    streams: list[str] = [stream_of(worker_id)]
    history: list[Envelope] = []
    async with store.transaction() as tx:
        while streams:
            stream = streams.pop()
            loaded = (await tx.load([stream]))[stream].recorded
            mine = [r for r in loaded if r.envelope.payload.get("nomination_id") == nomination_id]
            for recorded in mine:
                if isinstance(recorded.event, NominationCorrected) and recorded.event.previous_worker_id:
                    streams.append(stream_of(recorded.event.previous_worker_id))
            history = [r.envelope for r in mine] + history
    return [_history_entry(e) for e in sorted(history, key=lambda e: e.occurred_at)]


def _history_entry(envelope: Envelope) -> dict[str, Any]:
    event = decode(envelope)
    entry: dict[str, Any] = {
        "event_type": envelope.event_type,
        "occurred_at": envelope.occurred_at.isoformat(),
        "stream": envelope.aggregate_id,
        "version": envelope.aggregate_version,
    }
    if isinstance(event, WorkerNominated):
        entry.update(channel=event.channel, submitted_by=event.submitted_by, nik=mask_nik(event.nik))
    elif isinstance(event, NominationCorrected):
        entry.update(corrected_by=event.corrected_by, fields=event.corrected_fields, note=event.note)
        entry["nik"] = mask_nik(event.nik)
    elif isinstance(event, WorkerValidated):
        entry.update(status="validated", reference_version=event.reference_version)
        entry["poverty_source"] = event.poverty_source
    elif isinstance(event, WorkerRejected):
        entry.update(status="rejected", reasons=[r.model_dump() for r in event.reasons])
        entry["reference_version"] = event.reference_version
    elif isinstance(event, NominationRevalidated):
        entry.update(trigger=event.trigger, reference_version=event.reference_version)
    elif isinstance(event, NominationWithdrawn):
        entry.update(status="withdrawn", reason=event.reason, note=event.note)
        entry["withdrawn_by"] = event.withdrawn_by
    return entry


async def programme_definitions(conn: AsyncConnection) -> list[dict[str, Any]]:
    """Programmes the registry accepts nominations for (their ProgrammeDefined)."""
    rows = await conn.execute(select(programmes).order_by(programmes.c.programme_code))
    return [dict(r.definition) for r in rows]


async def current_extracts(conn: AsyncConnection) -> list[dict[str, Any]]:
    """The current version of each reference extract."""
    rows = await conn.execute(select(reference_versions).order_by(reference_versions.c.kind))
    return [{**r._mapping, "imported_at": r.imported_at.isoformat()} for r in rows]


async def extract_history(store: Store, kind: str) -> list[dict[str, Any]]:
    """Every version of `kind` ever imported, oldest first (from the event stream)."""
    stream = reference_stream(kind)
    async with store.transaction() as tx:
        loaded = (await tx.load([stream]))[stream].recorded
    return [{**r.envelope.payload, "event_id": str(r.envelope.event_id)} for r in loaded]
