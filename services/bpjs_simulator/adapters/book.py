"""What the pretend insurer remembers, in PostgreSQL: the SQL of the InsurerBook port
(application/ports.py) over the kit's transaction."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime

from sqlalchemy import Sequence as DbSequence
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.eventstore.ports import StoreTransaction
from libs.eventstore.postgres import PostgresTransaction
from services.bpjs_simulator.adapters.tables import (
    SCHEMA,
    answered,
    deregistrations,
    held_messages,
    paid_months,
    participants,
    payers,
    payments,
    payments_seq,
)
from services.bpjs_simulator.application.ports import (
    Deregistration,
    DueAnswer,
    HeldAnswer,
    LatestPayer,
    NewPayer,
    Payment,
    Registered,
)
from services.bpjs_simulator.domain.insurer import Payer, kpj_number

participants_seq = DbSequence("participants_seq", schema=SCHEMA)


class SqlInsurerBook:
    """The simulator's schema, in one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def answered(self, kind: str, request_id: str, attempt: int) -> bool:
        seen = await self.conn.execute(
            select(answered.c.decision).where(
                answered.c.kind == kind, answered.c.request_id == request_id, answered.c.attempt == attempt
            )
        )
        return seen.first() is not None

    async def mark_answered(
        self, kind: str, request_id: str, attempt: int, decision: str, reason_code: str | None
    ) -> None:
        await self.conn.execute(
            insert(answered).values(
                kind=kind, request_id=request_id, attempt=attempt, decision=decision, reason_code=reason_code
            )
        )

    async def hold(self, answers: Sequence[HeldAnswer]) -> None:
        rows = [asdict(a) | {"late": int(a.late)} for a in answers]
        if rows:
            await self.conn.execute(insert(held_messages), rows)

    async def due(self, now: datetime, limit: int) -> list[DueAnswer]:
        h = held_messages
        rows = await self.conn.execute(
            select(h.c.id, h.c.stream, h.c.event_type, h.c.payload, h.c.correlation_id, h.c.causation_id)
            .where(h.c.released_at.is_(None), h.c.due_at <= now)
            .order_by(h.c.due_at, h.c.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [DueAnswer(*row) for row in rows]

    async def mark_sent(self, ids: Sequence[int], now: datetime) -> None:
        if ids:
            await self.conn.execute(
                update(held_messages).where(held_messages.c.id.in_(list(ids))).values(released_at=now)
            )

    async def registered(self, request_id: str) -> Registered | None:
        row = (await self.conn.execute(select(payers).where(payers.c.request_id == request_id))).first()
        return None if row is None else Registered(row.kpj, row.registered_at, row.continued)

    async def kpj_of(self, nik: str) -> str | None:
        person = (
            await self.conn.execute(select(participants).where(participants.c.nik == nik).with_for_update())
        ).first()
        return None if person is None else str(person.kpj)

    async def kpj_issued(self, kpj: str) -> bool:
        found = await self.conn.execute(select(participants.c.seq).where(participants.c.kpj == kpj))
        return found.first() is not None

    async def payers_of(self, kpj: str) -> list[Payer]:
        months = frozenset(
            (await self.conn.execute(select(paid_months.c.month).where(paid_months.c.kpj == kpj))).scalars()
        )
        rows = await self.conn.execute(select(payers).where(payers.c.kpj == kpj))
        return [
            Payer(
                programme_code=r.programme_code,
                first_day=r.first_day,
                coverage_end=r.coverage_end,
                ended_on=r.ended_on,
                paid_months=months,
            )
            for r in rows
        ]

    async def continue_participant(self, nik: str, payer: LatestPayer) -> None:
        await self.conn.execute(update(participants).where(participants.c.nik == nik).values(asdict(payer)))

    async def register_new(self, nik: str, registered_at: datetime, payer: LatestPayer) -> str:
        # Passes over any KPJ a preloaded participant holds already. Two requests for one NIK
        # racing on two partitions: the unique NIK decides, the loser's transaction fails and is
        # retried alone, then finds the participant.
        while True:
            sequence = int((await self.conn.execute(select(participants_seq.next_value()))).scalar_one())
            issued = await self.conn.execute(
                insert(participants)
                .values(
                    seq=sequence,
                    nik=nik,
                    kpj=kpj_number(sequence),
                    registered_at=registered_at,
                    **asdict(payer),
                )
                .on_conflict_do_nothing(index_elements=["kpj"])
                .returning(participants.c.kpj)
            )
            kpj = issued.scalar_one_or_none()
            if kpj is not None:
                return str(kpj)

    async def add_payer(self, payer: NewPayer) -> None:
        await self.conn.execute(insert(payers).values(asdict(payer)))

    async def deregistration(self, request_id: str) -> Deregistration | None:
        row = (
            await self.conn.execute(select(deregistrations).where(deregistrations.c.request_id == request_id))
        ).first()
        return None if row is None else Deregistration(**row._asdict())

    async def stop_payer(self, kpj: str, programme_code: str, last_day: date, reason: str) -> bool:
        stopped = await self.conn.execute(
            update(payers)
            .where(payers.c.kpj == kpj, payers.c.programme_code == programme_code)
            .values(
                # PostgreSQL's LEAST skips NULL: a payer not ended yet ends on the day named.
                ended_on=func.least(payers.c.ended_on, last_day),
                end_reason=func.coalesce(payers.c.end_reason, reason),
            )
        )
        return bool(stopped.rowcount)

    async def record_deregistration(self, decided: Deregistration) -> None:
        await self.conn.execute(insert(deregistrations).values(asdict(decided)))

    async def payment(self, payment_request_id: str) -> Payment | None:
        row = (
            await self.conn.execute(
                select(payments).where(payments.c.payment_request_id == payment_request_id)
            )
        ).first()
        return None if row is None else Payment(**row._asdict())

    async def participants_among(self, kpjs: set[str]) -> set[str]:
        found = await self.conn.execute(select(participants.c.kpj).where(participants.c.kpj.in_(kpjs)))
        return set(found.scalars())

    async def paid_among(self, month: str, kpjs: set[str]) -> set[str]:
        found = await self.conn.execute(
            select(paid_months.c.kpj).where(paid_months.c.month == month, paid_months.c.kpj.in_(kpjs))
        )
        return set(found.scalars())

    async def payer_ends(self, programme_code: str, kpjs: set[str]) -> dict[str, list[date | None]]:
        ends: dict[str, list[date | None]] = defaultdict(list)
        for kpj, ended_on in await self.conn.execute(
            select(payers.c.kpj, payers.c.ended_on).where(
                payers.c.programme_code == programme_code, payers.c.kpj.in_(kpjs)
            )
        ):
            ends[kpj].append(ended_on)
        return dict(ends)

    async def next_payment_number(self) -> int:
        return int((await self.conn.execute(select(payments_seq.next_value()))).scalar_one())

    async def book_months(self, kpjs: set[str], month: str, payment_request_id: str) -> None:
        await self.conn.execute(
            insert(paid_months),
            [{"kpj": k, "month": month, "payment_request_id": payment_request_id} for k in kpjs],
        )

    async def record_payment(self, decided: Payment) -> Payment:
        await self.conn.execute(insert(payments).values(asdict(decided)))
        stored = await self.payment(decided.payment_request_id)
        assert stored is not None
        return stored


def sql_insurer_book(tx: StoreTransaction) -> SqlInsurerBook:
    """The insurer's book of a kit transaction on PostgreSQL."""
    if not isinstance(tx, PostgresTransaction):
        raise TypeError(f"the insurer's book needs a PostgreSQL transaction, not {type(tx).__name__}")
    return SqlInsurerBook(tx.conn)
