"""Projection of the registry's own events into its read models (same transaction as the append)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope, decode
from libs.events.contracts.allocation import ProgrammeDefined
from libs.events.contracts.enrollment import EnrolledAtBPJS
from libs.events.contracts.registry import (
    NominationWithdrawn,
    WorkerNominated,
    WorkerRejected,
    WorkerValidated,
)
from services.registry.adapters.tables import nominations, participants, programmes


async def project(conn: AsyncConnection, envelope: Envelope) -> None:
    """Apply one registry event to the read models."""
    event = decode(envelope)
    at = envelope.occurred_at
    if isinstance(event, WorkerNominated):
        row: dict[str, Any] = {
            "nomination_id": event.nomination_id,
            "worker_id": event.worker_id,
            "programme_code": event.programme_code,
            "regency_code": event.regency_code,
            "nik": event.nik,
            "full_name": event.full_name,
            "birth_date": event.birth_date,
            "sex": event.sex,
            "occupation": event.occupation,
            "kecamatan": event.kecamatan,
            "desa": event.desa,
            "sector": event.sector,
            "decile": event.decile,
            "funder": event.funder.value,
            "channel": event.channel,
            "status": "pending",
            "reasons": [],
            "nominated_at": at,
            "updated_at": at,
        }
        await conn.execute(insert(nominations).values(row).on_conflict_do_nothing())
    elif isinstance(event, WorkerValidated):
        await _set(
            conn,
            event.nomination_id,
            status="validated",
            poverty_source=event.poverty_source,
            reference_version=event.reference_version,
            decile=event.decile,
            updated_at=at,
        )
    elif isinstance(event, WorkerRejected):
        reasons = [r.model_dump() for r in event.reasons]
        await _set(conn, event.nomination_id, status="rejected", reasons=reasons, updated_at=at)
    elif isinstance(event, NominationWithdrawn):
        await _set(conn, event.nomination_id, status="withdrawn", updated_at=at)


async def _set(conn: AsyncConnection, nomination_id: str, **values: Any) -> None:
    await conn.execute(
        update(nominations).where(nominations.c.nomination_id == nomination_id).values(**values)
    )


async def project_consumed(conn: AsyncConnection, envelope: Envelope) -> None:
    """Apply another service's event to the registry's copies (programmes, BPJS participants)."""
    event = decode(envelope)
    if isinstance(event, ProgrammeDefined):
        row: dict[str, Any] = {
            "programme_code": event.programme_code,
            "funder": event.funder.value,
            "jurisdiction": event.jurisdiction,
            "coverage_start": event.coverage_start,
            "coverage_end": event.coverage_end,
            "definition": event.model_dump(mode="json"),
        }
        stmt = insert(programmes).values(row)
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["programme_code"], set_={k: stmt.excluded[k] for k in row}
            )
        )
    elif isinstance(event, EnrolledAtBPJS):
        participant: dict[str, Any] = {
            "worker_id": event.worker_id,
            "kpj": event.kpj,
            "programme_code": event.programme_code,
            "coverage_end": event.coverage_end,
            "active": True,
        }
        stmt = insert(participants).values(participant)
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["worker_id"], set_={k: stmt.excluded[k] for k in participant}
            )
        )
