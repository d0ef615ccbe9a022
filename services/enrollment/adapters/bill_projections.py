"""Projection of a bill line's events (PremiumBilled, its payment's requests and answers) into
`bills`, `bill_workers` and the `paid` coverage facts."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope
from libs.events.contracts.bpjs import PremiumPaymentRequested
from libs.events.contracts.enrollment import (
    PremiumBilled,
    PremiumPaid,
    PremiumPaymentFailed,
    PremiumPaymentRetryScheduled,
)
from services.enrollment.adapters.tables import bill_workers, bills, coverage_facts


async def project_bill(conn: AsyncConnection, envelope: Envelope, event: object) -> None:
    """One bill event applied to the read models."""
    at = envelope.occurred_at
    b = bills
    if isinstance(event, PremiumBilled):
        await conn.execute(
            insert(b).values(
                bill_id=event.bill_id,
                programme_code=event.programme_code,
                month=event.month,
                funder=event.funder,
                regency_code=event.regency_code,
                workers=event.workers,
                jkk_per_worker=event.jkk_per_worker,
                jkm_per_worker=event.jkm_per_worker,
                jkk_total=event.jkk_total,
                jkm_total=event.jkm_total,
                total=event.total,
                status="requested",
                attempts=0,
                billed_on=event.billed_on,
                billed_at=at,
                updated_at=at,
            )
        )
        await conn.execute(
            insert(bill_workers),
            [
                {
                    "bill_id": event.bill_id,
                    "worker_id": w,
                    "programme_code": event.programme_code,
                    "month": event.month,
                }
                for w in event.worker_ids
            ],
        )
    elif isinstance(event, PremiumPaymentRequested):
        await conn.execute(
            update(b)
            .where(b.c.bill_id == event.payment_request_id)
            .values(attempts=event.attempt, attempt_sent_at=at, retry_at=None, updated_at=at)
        )
    elif isinstance(event, PremiumPaymentRetryScheduled):
        await conn.execute(
            update(b)
            .where(b.c.bill_id == event.bill_id, b.c.status == "requested")
            .values(
                retry_at=event.retry_at, reason_code=event.reason_code, reason=event.reason, updated_at=at
            )
        )
    elif isinstance(event, PremiumPaid):
        await conn.execute(
            update(b)
            .where(b.c.bill_id == event.bill_id)
            .values(
                status="paid",
                payment_ref=event.payment_ref,
                paid_on=event.paid_on,
                retry_at=None,
                reason_code=None,
                reason=None,
                updated_at=at,
            )
        )
        if event.worker_ids:
            await conn.execute(
                insert(coverage_facts),
                [
                    {
                        "worker_id": w,
                        "programme_code": event.programme_code,
                        "kind": "paid",
                        "month": event.month,
                        "day": event.paid_on or at.date(),
                        "event_id": envelope.event_id,
                        "event_type": envelope.event_type,
                    }
                    for w in event.worker_ids
                ],
            )
    elif isinstance(event, PremiumPaymentFailed):
        await conn.execute(
            update(b)
            .where(b.c.bill_id == event.bill_id)
            .values(
                status="failed",
                reason_code=event.reason_code,
                reason=event.reason,
                retry_at=None,
                updated_at=at,
            )
        )
