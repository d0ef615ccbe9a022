"""Projection of the claims service's own events into the claims ledger."""

from __future__ import annotations

from sqlalchemy import cast, literal, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope, decode
from libs.events.contracts.claims import ClaimFlagged, ClaimRecorded
from libs.events.contracts.enrollment import EnrolledAtBPJS
from services.claims.adapters.tables import claims, coverage


async def project(conn: AsyncConnection, envelope: Envelope) -> None:
    """Apply one claims event to the read model (idempotent per event: replays rebuild it)."""
    event = decode(envelope)
    if isinstance(event, ClaimRecorded):
        await conn.execute(
            insert(claims)
            .values(
                claim_id=event.claim_id,
                worker_id=event.worker_id,
                kpj=event.kpj,
                programme=event.programme,
                benefit_kind=event.benefit_kind,
                incident_date=event.incident_date,
                paid_date=event.paid_date,
                amount=event.amount,
                regency_code=event.regency_code,
                programme_code=event.programme_code,
                flagged=False,
                flags=[],
                recorded_at=envelope.occurred_at,
            )
            .on_conflict_do_nothing(index_elements=["claim_id"])
        )
    elif isinstance(event, ClaimFlagged):
        at = envelope.occurred_at.isoformat()
        entries = [
            {**r.model_dump(mode="json"), "event_id": str(envelope.event_id), "flagged_at": at}
            for r in event.reasons
        ]
        await conn.execute(
            update(claims)
            .where(
                claims.c.claim_id == event.claim_id,
                # The same event applied twice (a rebuild over a live table) adds its reasons once.
                ~claims.c.flags.contains([{"event_id": str(envelope.event_id)}]),
            )
            .values(flagged=True, flags=claims.c.flags.op("||")(cast(literal(entries, JSONB), JSONB)))
        )


async def project_consumed(conn: AsyncConnection, envelope: Envelope) -> None:
    """Apply enrollment's EnrolledAtBPJS to the claims service's coverage view."""
    event = decode(envelope)
    if not isinstance(event, EnrolledAtBPJS):
        return
    row = {
        "worker_id": event.worker_id,
        "programme_code": event.programme_code,
        "kpj": event.kpj,
        "funder": event.funder.value,
        "regency_code": event.regency_code,
        "coverage_start": event.coverage_start,
        "coverage_end": event.coverage_end,
        "request_id": event.request_id,
        "updated_at": envelope.occurred_at,
    }
    stmt = insert(coverage).values(row)
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["worker_id", "programme_code"],
            set_={k: stmt.excluded[k] for k in row if k not in ("worker_id", "programme_code")},
        )
    )
