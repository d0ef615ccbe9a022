"""The simulator's read side: what the pretend insurer holds (participants, payments) and the
control panel's counts of held and sent answers."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.pii import mask_nik
from services.bpjs_simulator.adapters.tables import (
    eventstore,
    held_messages,
    paid_months,
    participants,
    payers,
    payments,
)


async def participant_count(engine: AsyncEngine) -> dict[str, Any]:
    """How many participants the simulator registered, and how many distinct KPJs it issued."""
    async with engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(participants))).scalar_one()
        kpjs = (await conn.execute(select(func.count(func.distinct(participants.c.kpj))))).scalar_one()
    return {"participants": total, "distinct_kpj": kpjs}


async def participant(engine: AsyncEngine, kpj: str) -> dict[str, Any] | None:
    """One participant (NIK masked), the months paid for them and their payers (None: unknown)."""
    async with engine.connect() as conn:
        row = (await conn.execute(select(participants).where(participants.c.kpj == kpj))).first()
        if row is None:
            return None
        months = (
            await conn.execute(
                select(paid_months.c.month, paid_months.c.payment_request_id)
                .where(paid_months.c.kpj == kpj)
                .order_by(paid_months.c.month)
            )
        ).all()
        paying = (
            await conn.execute(select(payers).where(payers.c.kpj == kpj).order_by(payers.c.registered_at))
        ).all()
    return {
        "kpj": row.kpj,
        "nik": mask_nik(row.nik),
        "worker_id": row.worker_id,
        "programme_code": row.programme_code,
        "registered_at": row.registered_at.isoformat(),
        "paid_months": [{"month": m.month, "payment_request_id": m.payment_request_id} for m in months],
        "payers": [
            {
                "programme_code": p.programme_code,
                "request_id": p.request_id,
                "first_day": p.first_day.isoformat(),
                "coverage_end": p.coverage_end.isoformat(),
                "continued": p.continued,
                "ended_on": p.ended_on.isoformat() if p.ended_on else None,
                "end_reason": p.end_reason,
            }
            for p in paying
        ],
    }


async def payment(engine: AsyncEngine, payment_request_id: str) -> dict[str, Any] | None:
    """The simulator's final decision on one premium payment request (None: unknown)."""
    async with engine.connect() as conn:
        row = (
            await conn.execute(select(payments).where(payments.c.payment_request_id == payment_request_id))
        ).first()
    if row is None:
        return None
    return {
        "payment_request_id": row.payment_request_id,
        "outcome": row.outcome,
        "payment_ref": row.payment_ref,
        "reason_code": row.reason_code,
        "month": row.month,
        "participants": row.participants,
        "total": row.total,
        "paid_at": row.paid_at.isoformat() if row.paid_at else None,
    }


async def answer_counts(engine: AsyncEngine) -> dict[str, int]:
    """Answers held (not due yet), sent (every answer on an answer stream, held first or sent with
    its batch), and, of those held, repeated and late (an answer due at once is never held)."""
    h = held_messages
    async with engine.connect() as conn:
        counts = (
            await conn.execute(
                select(
                    func.count().filter(h.c.released_at.is_(None)).label("held"),
                    func.count().filter(h.c.copy > 1).label("repeated"),
                    func.count().filter(h.c.late > 0).label("late"),
                )
            )
        ).one()
        sent = (await conn.execute(select(func.count()).select_from(eventstore.events))).scalar_one()
    return {"held": counts.held, "sent": sent, "repeated": counts.repeated, "late": counts.late}
