"""What the pretend insurer remembers, in PostgreSQL: the SQL of the InsurerBook port
(application/ports.py) over the kit's transaction. A batch's ledger is read with one query per
table, numbers are drawn in bulk, and what a batch decided is written with one statement per
table."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.contracts.bpjs import DeregistrationRequested, PremiumPaymentRequested, RegistrationRequested
from libs.eventstore.ports import StoreTransaction
from libs.eventstore.postgres import PostgresTransaction
from libs.sql_arrays import any_of, insert_rows
from services.bpjs_simulator.adapters.recording import write_facts
from services.bpjs_simulator.adapters.tables import (
    SCHEMA,
    answered,
    deregistrations,
    held_messages,
    paid_months,
    participants,
    payers,
    payments,
)
from services.bpjs_simulator.application.ports import DueAnswer, HeldAnswer
from services.bpjs_simulator.domain.insurer import kpj_number
from services.bpjs_simulator.domain.ledger import (
    Deregistration,
    Fact,
    Ledger,
    NewPayer,
    PayerRow,
    Payment,
    Registered,
)
from services.bpjs_simulator.domain.requests import Request, attempt_of

_NEW_PAYER_FIELDS = tuple(NewPayer.__dataclass_fields__)


def _draw(sequence: str, count: int) -> Any:
    return select(func.nextval(f"{SCHEMA}.{sequence}").label("n")).select_from(
        func.generate_series(1, count).alias("g")
    )


class SqlInsurerBook:
    """The simulator's schema, in one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self._seq_of: dict[str, int] = {}  # KPJ drawn -> its number of the sequence

    async def ledger_for(self, requests: Sequence[Request]) -> Ledger:
        ledger = Ledger()
        asked = {attempt_of(r)[:2] for r in requests}
        registrations = [r for r in requests if isinstance(r, RegistrationRequested)]
        niks = sorted({r.identity.nik for r in registrations})
        kpjs: set[str] = {r.kpj for r in registrations if r.kpj is not None}
        for r in requests:
            if isinstance(r, DeregistrationRequested):
                kpjs.add(r.kpj)
            elif isinstance(r, PremiumPaymentRequested):
                kpjs.update(r.kpjs)
        seen = await self.conn.execute(
            select(answered.c.kind, answered.c.request_id, answered.c.attempt).where(
                any_of(answered.c.request_id, sorted({rid for _, rid in asked}))
            )
        )
        ledger.answered = {(k, rid, a) for k, rid, a in seen if (k, rid) in asked}
        if niks or kpjs:
            # The people named are locked (in one order: two instances never wait on each other).
            people = await self.conn.execute(
                select(participants.c.nik, participants.c.kpj)
                .where(
                    or_(
                        any_of(participants.c.nik, niks),
                        any_of(participants.c.kpj, sorted(kpjs)),
                    )
                )
                .order_by(participants.c.nik)
                .with_for_update()
            )
            asked_niks = set(niks)
            for nik, kpj in people:
                ledger.issued.add(kpj)
                if nik in asked_niks:
                    ledger.kpjs[nik] = kpj
        await self._payers(ledger, registrations, kpjs | set(ledger.kpjs.values()))
        await self._decisions(ledger, requests)
        return ledger

    async def _payers(
        self, ledger: Ledger, registrations: list[RegistrationRequested], kpjs: set[str]
    ) -> None:
        request_ids = sorted({r.request_id for r in registrations})
        if not (kpjs or request_ids):
            return
        rows = await self.conn.execute(
            select(payers).where(
                or_(
                    any_of(payers.c.kpj, sorted(kpjs)),
                    any_of(payers.c.request_id, request_ids),
                )
            )
        )
        for row in rows:
            payer = NewPayer(**{name: getattr(row, name) for name in _NEW_PAYER_FIELDS})
            if row.kpj in kpjs:
                ledger.payers.setdefault(row.kpj, []).append(PayerRow(payer, row.ended_on, row.end_reason))
            ledger.registered[row.request_id] = Registered(payer.kpj, payer.registered_at, payer.continued)
        if kpjs:
            months = await self.conn.execute(
                select(paid_months.c.kpj, paid_months.c.month).where(any_of(paid_months.c.kpj, sorted(kpjs)))
            )
            for kpj, month in months:
                ledger.paid.setdefault(kpj, set()).add(month)

    async def _decisions(self, ledger: Ledger, requests: Sequence[Request]) -> None:
        stops = sorted({r.request_id for r in requests if isinstance(r, DeregistrationRequested)})
        if stops:
            rows = await self.conn.execute(
                select(deregistrations).where(any_of(deregistrations.c.request_id, stops))
            )
            ledger.deregistrations = {r.request_id: Deregistration(**r._asdict()) for r in rows}
        bills = sorted({r.payment_request_id for r in requests if isinstance(r, PremiumPaymentRequested)})
        if bills:
            rows = await self.conn.execute(
                select(payments).where(any_of(payments.c.payment_request_id, bills))
            )
            ledger.payments = {r.payment_request_id: Payment(**r._asdict()) for r in rows}

    async def kpj_numbers(self, count: int) -> list[str]:
        found: list[str] = []
        while len(found) < count:
            drawn = sorted(
                int(n)
                for n in (await self.conn.execute(_draw("participants_seq", count - len(found)))).scalars()
            )
            kpjs = {kpj_number(n): n for n in drawn}
            # Passes over any KPJ a preloaded participant holds already.
            taken = set(
                (
                    await self.conn.execute(
                        select(participants.c.kpj).where(any_of(participants.c.kpj, list(kpjs)))
                    )
                ).scalars()
            )
            for kpj, n in kpjs.items():
                if kpj not in taken:
                    found.append(kpj)
                    self._seq_of[kpj] = n
        return found

    async def payment_numbers(self, count: int) -> list[int]:
        return sorted(int(n) for n in (await self.conn.execute(_draw("payments_seq", count))).scalars())

    async def record(self, facts: Sequence[Fact]) -> None:
        await write_facts(self.conn, facts, self._seq_of)

    async def hold(self, answers: Sequence[HeldAnswer]) -> None:
        held = [asdict(a) | {"late": int(a.late)} for a in answers]
        if held:
            # One statement text whatever the number held (libs/sql_arrays.py); ids in order.
            await self.conn.execute(insert_rows(held_messages, held, in_order=True))

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
                update(held_messages).where(any_of(held_messages.c.id, ids)).values(released_at=now)
            )


def sql_insurer_book(tx: StoreTransaction) -> SqlInsurerBook:
    """The insurer's book of a kit transaction on PostgreSQL."""
    if not isinstance(tx, PostgresTransaction):
        raise TypeError(f"the insurer's book needs a PostgreSQL transaction, not {type(tx).__name__}")
    return SqlInsurerBook(tx.conn)
