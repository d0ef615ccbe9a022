"""Projection of enrollment's events into its read models, in the transaction that appends them:
registrations, stop-payments and coverage facts here, bill lines in bill_projections.py."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope, decode
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import (
    DeregistrationRequested,
    RegistrationRequested,
)
from libs.events.contracts.enrollment import (
    CoverageEnded,
    CoverageLapsed,
    EnrolledAtBPJS,
    EnrollmentFailed,
    RegistrationRetryScheduled,
)
from libs.pii import mask_nik
from services.enrollment.adapters.bill_projections import project_bill
from services.enrollment.adapters.registration_runs import insert_facts, mark_enrolled, upsert_requested
from services.enrollment.adapters.tables import (
    coverage_facts,
    deregistrations,
    registrations,
)


def _requested_row(event: RegistrationRequested, at: datetime) -> dict[str, Any]:
    return {
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
        "attempt_sent_at": at,
        "retry_at": None,
    }


def _enrolled_fact(envelope: Envelope, event: EnrolledAtBPJS) -> dict[str, Any]:
    return {
        "worker_id": event.worker_id,
        "programme_code": event.programme_code,
        "kind": "enrolled",
        "day": event.enrolled_on or envelope.occurred_at.date(),
        "coverage_start": event.coverage_start,
        "coverage_end": event.coverage_end,
        "event_id": envelope.event_id,
        "event_type": envelope.event_type,
    }


async def project_batch(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
    """`project` of each envelope in order, with runs of registration requests and of enrollments
    (the bulk of a consumer batch) written as one statement per table each."""
    run: list[tuple[Envelope, DomainEvent]] = []
    for envelope in envelopes:
        event = decode(envelope)
        if run and type(run[0][1]) is not type(event):
            await _project_run(conn, run)
            run = []
        run.append((envelope, event))
    if run:
        await _project_run(conn, run)


async def _project_run(conn: AsyncConnection, run: Sequence[tuple[Envelope, DomainEvent]]) -> None:
    """Events of one type, in order: requests and enrollments one statement per table."""
    kind = type(run[0][1])
    if kind is RegistrationRequested:
        rows = [_requested_row(e, env.occurred_at) for env, e in run if isinstance(e, RegistrationRequested)]
        await upsert_requested(conn, rows)
    elif kind is EnrolledAtBPJS:
        enrolled = [(env, e) for env, e in run if isinstance(e, EnrolledAtBPJS)]
        await mark_enrolled(
            conn,
            [
                {
                    "request_id": e.request_id,
                    "kpj": e.kpj,
                    "enrolled_on": e.enrolled_on,
                    "continuing": e.continuing,
                    "at": env.occurred_at,
                }
                for env, e in enrolled
            ],
        )
        await insert_facts(conn, [_enrolled_fact(env, e) for env, e in enrolled])
    else:
        for envelope, _ in run:
            await project(conn, envelope)


async def project(conn: AsyncConnection, envelope: Envelope) -> None:
    """Apply one enrollment event to the read models."""
    event = decode(envelope)
    at = envelope.occurred_at
    r = registrations
    if isinstance(event, RegistrationRequested):
        await upsert_requested(conn, [_requested_row(event, at)])
    elif isinstance(event, RegistrationRetryScheduled):
        await conn.execute(
            update(r)
            .where(r.c.request_id == event.request_id, r.c.status == "requested")
            .values(
                retry_at=event.retry_at, reason_code=event.reason_code, reason=event.reason, updated_at=at
            )
        )
    elif isinstance(event, EnrolledAtBPJS):
        await _project_run(conn, [(envelope, event)])
    elif isinstance(event, EnrollmentFailed):
        await conn.execute(
            update(r)
            .where(r.c.request_id == event.request_id)
            .values(
                status="failed",
                reason_code=event.reason_code,
                reason=event.reason,
                retry_at=None,
                updated_at=at,
            )
        )
    elif isinstance(event, CoverageLapsed):
        await conn.execute(
            insert(coverage_facts).values(
                worker_id=event.worker_id,
                programme_code=event.programme_code,
                kind="lapsed",
                month=event.month_unpaid,
                day=event.recorded_on or at.date(),
                ended_on=event.lapsed_on,
                event_id=envelope.event_id,
                event_type=envelope.event_type,
            )
        )
    elif isinstance(event, CoverageEnded):
        await _project_end(conn, envelope, event)
    elif isinstance(event, DeregistrationRequested):
        await _project_deregistration(conn, envelope, event)
    else:
        await project_bill(conn, envelope, event)


async def _project_end(conn: AsyncConnection, envelope: Envelope, event: CoverageEnded) -> None:
    r = registrations
    # Released before BPJS enrolled them: cancelled; once enrolled: ended (or membership ended).
    ended = "membership_ended" if event.reason == "membership_ended" else "ended"
    await conn.execute(
        update(r)
        .where(r.c.worker_id == event.worker_id, r.c.programme_code == event.programme_code)
        .values(
            status=case((r.c.status == "enrolled", ended), else_="cancelled"),
            ended_on=event.ended_on,
            end_reason=event.reason,
            last_month_billable=event.last_month_billable,
            retry_at=None,
            updated_at=envelope.occurred_at,
        )
    )
    await conn.execute(
        insert(coverage_facts).values(
            worker_id=event.worker_id,
            programme_code=event.programme_code,
            kind="ended",
            month=event.reason,
            day=event.ended_on,
            ended_on=event.ended_on,
            event_id=envelope.event_id,
            event_type=envelope.event_type,
        )
    )


async def _project_deregistration(
    conn: AsyncConnection, envelope: Envelope, event: DeregistrationRequested
) -> None:
    at = envelope.occurred_at
    statement = insert(deregistrations).values(
        worker_id=event.worker_id,
        programme_code=event.programme_code,
        request_id=event.request_id,
        kpj=event.kpj,
        reason=event.reason,
        last_covered_day=event.last_covered_day,
        status="requested",
        attempts=event.attempt,
        attempt_sent_at=at,
        requested_at=at,
        updated_at=at,
    )
    # A later attempt keeps the first request time; a confirmed stop-payment stays confirmed.
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["worker_id", "programme_code"],
            set_={"attempts": event.attempt, "attempt_sent_at": at, "updated_at": at},
        )
    )
