"""The SQL of enrollment's read port (application/ports.py), over the connection of the
transaction the handlers decide in."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Table, and_, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.contracts.bpjs import DeregistrationConfirmed, DeregistrationRejected
from libs.events.envelope import Envelope
from libs.eventstore.ports import StoreTransaction
from libs.eventstore.postgres import PostgresTransaction
from services.enrollment.adapters import answer_outcomes
from services.enrollment.adapters.consumed_projections import project_consumed
from services.enrollment.adapters.tables import (
    bill_workers,
    bills,
    coverage_facts,
    deregistrations,
    programmes,
    registrations,
)
from services.enrollment.application.coverage import ledgers_from
from services.enrollment.application.ports import BillableRegistration, ProgrammeTerms, Waiting
from services.enrollment.domain.coverage import CoverageLedger

# Registrations still billable for some month: enrolled, or ended with a last month owed.
BILLABLE_STATUSES = ("enrolled", "ended", "membership_ended")
WAITING: dict[str, tuple[Table, tuple[str, ...]]] = {
    "registrations": (registrations, ("worker_id", "programme_code")),
    "deregistrations": (deregistrations, ("worker_id", "programme_code")),
    "bills": (bills, ("bill_id",)),
}


def sql_reads(tx: StoreTransaction) -> SqlReads:
    """The read port of a PostgreSQL transaction of the store."""
    assert isinstance(tx, PostgresTransaction), "enrollment's read models live in PostgreSQL"
    return SqlReads(tx.conn)


def _due(table: Table, now: datetime, timeout: timedelta) -> Any:
    return and_(
        table.c.status == "requested",
        or_(
            table.c.retry_at <= now,
            and_(table.c.retry_at.is_(None), table.c.attempt_sent_at <= now - timeout),
        ),
    )


class SqlReads:
    """EnrollmentReads on one connection."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def lock_registrations(self, request_ids: Sequence[str]) -> None:
        # Locked in one order, as the clock locks them: an answer and a timeout of the same
        # registration then take turns instead of deadlocking on each other's writes.
        await self.conn.execute(
            select(registrations.c.status)
            .where(registrations.c.request_id.in_(sorted(request_ids)))
            .order_by(registrations.c.request_id)
            .with_for_update()
        )

    async def lock_registration(self, worker_id: str, programme_code: str) -> None:
        r = registrations.c
        await self.conn.execute(
            select(r.status)
            .where(r.worker_id == worker_id, r.programme_code == programme_code)
            .with_for_update()
        )

    async def lock_bill(self, bill_id: str) -> None:
        await self.conn.execute(select(bills.c.status).where(bills.c.bill_id == bill_id).with_for_update())

    async def known_kpjs(self, worker_ids: Sequence[str]) -> dict[str, str]:
        r = registrations.c
        rows = await self.conn.execute(
            select(r.worker_id, r.kpj)
            .where(r.worker_id.in_(sorted(set(worker_ids))), r.kpj.is_not(None))
            .order_by(r.enrolled_on.nulls_first(), r.updated_at)
        )
        return {worker_id: kpj for worker_id, kpj in rows}

    async def first_stop_answer(
        self, answer: DeregistrationConfirmed | DeregistrationRejected
    ) -> tuple[bool, str] | None:
        d = deregistrations.c
        row = (
            await self.conn.execute(
                select(d.status, d.worker_id, d.programme_code)
                .where(d.request_id == answer.request_id)
                .with_for_update()
            )
        ).first()
        if row is None or row.worker_id != answer.worker_id:
            return None
        return row.status == "requested", str(row.programme_code)

    async def project_consumed(self, envelope: Envelope) -> None:
        await project_consumed(self.conn, envelope)

    async def count(self, outcomes: Iterable[tuple[str, str]]) -> None:
        await answer_outcomes.record(self.conn, outcomes)

    async def lapsed_workers(self, programme_code: str, month: str, worker_ids: Sequence[str]) -> list[str]:
        f = coverage_facts.c
        rows = await self.conn.execute(
            select(f.worker_id)
            .where(
                f.programme_code == programme_code,
                f.kind == "lapsed",
                f.month == month,
                f.worker_id.in_(list(worker_ids)),
            )
            .distinct()
        )
        return sorted(rows.scalars())

    async def lock_billing(self, programme_code: str, month: str) -> None:
        await self.conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
            {"k": f"enrollment-bill:{programme_code}:{month}"},
        )

    async def programme(self, programme_code: str) -> ProgrammeTerms | None:
        p = programmes.c
        row = (await self.conn.execute(select(programmes).where(p.programme_code == programme_code))).first()
        if row is None:
            return None
        return ProgrammeTerms(
            row.programme_code,
            row.premium_jkk,
            row.premium_jkm,
            row.coverage_start,
            row.coverage_end,
            row.quotas,
            row.budget_cap,
        )

    async def billable(self, programme_code: str) -> list[BillableRegistration]:
        r = registrations.c
        rows = await self.conn.execute(
            select(registrations).where(r.programme_code == programme_code, r.status.in_(BILLABLE_STATUSES))
        )
        return [
            BillableRegistration(
                row.worker_id,
                row.funder,
                row.regency_code,
                row.kpj,
                row.status,
                row.coverage_start,
                row.coverage_end,
                row.enrolled_on,
                row.last_month_billable,
            )
            for row in rows
        ]

    async def billed_workers(self, programme_code: str, month: str) -> set[str]:
        rows = await self.conn.execute(
            select(bill_workers.c.worker_id)
            .join(bills, bills.c.bill_id == bill_workers.c.bill_id)
            .where(
                bill_workers.c.programme_code == programme_code,
                bill_workers.c.month == month,
                bills.c.status != "failed",
            )
        )
        return set(rows.scalars())

    async def bill_lines(self, programme_code: str, month: str) -> int:
        b = bills.c
        query = select(func.count()).where(b.programme_code == programme_code, b.month == month)
        return int((await self.conn.execute(query)).scalar_one())

    async def spent(self, programme_code: str) -> int:
        b = bills.c
        query = select(func.coalesce(func.sum(b.total), 0)).where(
            b.programme_code == programme_code, b.status != "failed"
        )
        return int((await self.conn.execute(query)).scalar_one())

    async def try_lock_lapses(self) -> bool:
        lock = text("SELECT pg_try_advisory_xact_lock(hashtextextended('enrollment-lapses', 0))")
        return bool((await self.conn.execute(lock)).scalar_one())

    async def enrolled_ledgers(
        self, today: date, after_end_days: int
    ) -> dict[tuple[str, str], CoverageLedger]:
        r = registrations.c
        rows = await self.conn.execute(
            select(coverage_facts)
            .join(
                registrations,
                (r.worker_id == coverage_facts.c.worker_id)
                & (r.programme_code == coverage_facts.c.programme_code),
            )
            .where(
                r.status == "enrolled",
                r.coverage_start <= today,
                # A lapse of a programme's last month is recorded in the month after it ends.
                r.coverage_end >= today - timedelta(days=after_end_days),
            )
        )
        return {key: pc.ledger for key, pc in ledgers_from(rows.all()).items()}

    async def due(
        self, kind: Waiting, now: datetime, timeout: timedelta, limit: int
    ) -> list[tuple[Any, ...]]:
        table, keys = WAITING[kind]
        rows = await self.conn.execute(
            select(*(table.c[k] for k in keys))
            .where(_due(table, now, timeout))
            .order_by(table.c.attempt_sent_at)
            .limit(limit)
        )
        return [tuple(row) for row in rows]

    async def claim_due(self, kind: Waiting, key: tuple[Any, ...], now: datetime, timeout: timedelta) -> bool:
        table, keys = WAITING[kind]
        locked = await self.conn.execute(
            select(table.c[keys[0]])
            .where(*(table.c[k] == v for k, v in zip(keys, key, strict=True)))
            .where(_due(table, now, timeout))
            .with_for_update(skip_locked=True)
        )
        return locked.first() is not None

    async def next_deadline(self, timeout: timedelta) -> datetime | None:
        found: list[datetime] = []
        for table, _ in WAITING.values():
            waiting = table.c.status == "requested"
            retry = (
                await self.conn.execute(
                    select(func.min(table.c.retry_at)).where(waiting, table.c.retry_at.is_not(None))
                )
            ).scalar_one()
            sent = (
                await self.conn.execute(
                    select(func.min(table.c.attempt_sent_at)).where(waiting, table.c.retry_at.is_(None))
                )
            ).scalar_one()
            found += [retry] if retry is not None else []
            found += [sent + timeout] if sent is not None else []
        return min(found) if found else None
