"""Projection of enrollment's own events into the registrations read model."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope, decode
from libs.events.contracts.bpjs import RegistrationRequested
from libs.events.contracts.enrollment import EnrolledAtBPJS, EnrollmentFailed
from libs.pii import mask_nik
from services.enrollment.adapters.tables import registrations


async def project(conn: AsyncConnection, envelope: Envelope) -> None:
    """Apply one enrollment event to the read model."""
    event = decode(envelope)
    at = envelope.occurred_at
    if isinstance(event, RegistrationRequested):
        row = {
            "worker_id": event.worker_id,
            "programme_code": event.programme_code,
            "request_id": event.request_id,
            "status": "requested",
            "attempts": event.attempt,
            "funder": event.funder,
            "regency_code": event.regency_code,
            "sector": event.sector,
            "nik_masked": mask_nik(event.identity.nik),
            "coverage_start": event.coverage_start,
            "coverage_end": event.coverage_end,
            "requested_at": at,
            "updated_at": at,
        }
        stmt = insert(registrations).values(row)
        await conn.execute(
            stmt.on_conflict_do_update(
                index_elements=["worker_id", "programme_code"],
                set_={"attempts": event.attempt, "updated_at": at},
            )
        )
    elif isinstance(event, EnrolledAtBPJS):
        await conn.execute(
            update(registrations)
            .where(registrations.c.request_id == event.request_id)
            .values(status="enrolled", kpj=event.kpj, updated_at=at)
        )
    elif isinstance(event, EnrollmentFailed):
        await conn.execute(
            update(registrations)
            .where(registrations.c.request_id == event.request_id)
            .values(status="failed", reason_code=event.reason_code, reason=event.reason, updated_at=at)
        )
