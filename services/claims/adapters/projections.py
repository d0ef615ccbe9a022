"""Projection of the claims service's own events into the claims ledger."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import cast, literal, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope, decode
from libs.events.contracts.bpjs import ClaimPaid
from libs.events.contracts.claims import ClaimFlagged, ClaimRecorded
from libs.events.contracts.enrollment import (
    CoverageEnded,
    CoverageLapsed,
    CoverageRestored,
    EnrolledAtBPJS,
    MembershipEnded,
    PremiumPaid,
)
from libs.sql_arrays import insert_rows
from services.claims.adapters.tables import claims, coverage, coverage_facts


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
    """Apply one of enrollment's coverage events to the claims service's coverage view: the
    programme's period per worker (EnrolledAtBPJS) and every fact (`coverage_facts`)."""
    await project_consumed_batch(conn, [envelope])


async def project_consumed_batch(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
    """`project_consumed` of each envelope in order, as one statement per table: the latest
    period per worker and programme wins (each upsert sets every column), facts already kept
    are kept once."""
    periods: dict[tuple[str, str], dict[str, object]] = {}
    facts: list[dict[str, object]] = []
    for envelope in envelopes:
        if envelope.event_type == ClaimPaid.event_type:
            continue  # decided by the handler into claims events; its inbox copy is sealed (libs/privacy)
        event = decode(envelope)
        if isinstance(event, EnrolledAtBPJS):
            row = _period(envelope, event)
            periods.pop((event.worker_id, event.programme_code), None)  # the latest comes last
            periods[(event.worker_id, event.programme_code)] = row
        facts += [{"event_id": str(envelope.event_id), **fact} for fact in _facts_of(event)]
    if periods:
        await _keep_periods(conn, list(periods.values()))
    if facts:
        await _keep_facts(conn, facts)


async def _keep_periods(conn: AsyncConnection, rows: Sequence[dict[str, object]]) -> None:
    statement = insert_rows(coverage, rows)
    key = ("worker_id", "programme_code")
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=list(key),
            set_={c.name: statement.excluded[c.name] for c in coverage.columns if c.name not in key},
        )
    )


async def _keep_facts(conn: AsyncConnection, rows: Sequence[dict[str, object]]) -> None:
    await conn.execute(insert_rows(coverage_facts, rows).on_conflict_do_nothing())


def _facts_of(event: object) -> list[dict[str, object]]:
    def fact(worker_id: str, programme_code: str, kind: str, **values: object) -> dict[str, object]:
        return (
            {"worker_id": worker_id, "programme_code": programme_code, "kind": kind}
            | {
                "month": None,
                "day": None,
                "reason": None,
            }
            | values
        )

    if isinstance(event, EnrolledAtBPJS):
        # Events from before `enrolled_on` existed: registered by the programme's first day.
        day = event.enrolled_on or event.coverage_start
        return [fact(event.worker_id, event.programme_code, "enrolled", day=day)]
    if isinstance(event, PremiumPaid):
        return [
            fact(w, event.programme_code, "paid", month=event.month, day=event.paid_on)
            for w in dict.fromkeys(event.worker_ids)
        ]
    if isinstance(event, CoverageRestored):
        return [
            fact(
                event.worker_id,
                event.programme_code,
                "restored",
                month=event.month_paid,
                day=event.restored_from,
            )
        ]
    if isinstance(event, CoverageLapsed):
        return [
            fact(
                event.worker_id, event.programme_code, "lapsed", month=event.month_unpaid, day=event.lapsed_on
            )
        ]
    if isinstance(event, CoverageEnded):
        return [fact(event.worker_id, event.programme_code, "ended", day=event.ended_on, reason=event.reason)]
    if isinstance(event, MembershipEnded):
        return [fact(event.worker_id, event.programme_code, "membership_ended", day=event.ended_on)]
    return []


def _period(envelope: Envelope, event: EnrolledAtBPJS) -> dict[str, object]:
    return {
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
