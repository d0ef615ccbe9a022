"""The simulator's control panel in PostgreSQL: outages, participants known before Lindung, the
nik of a KPJ for a pushed claim (the ControlBook port of application/control.py), and what the
background loops read (the outage in force, the next held answer due)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Text, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.eventstore.ports import StoreTransaction
from libs.eventstore.postgres import PostgresTransaction
from services.bpjs_simulator.adapters.tables import control, held_messages, participants
from services.bpjs_simulator.application.control import KnownParticipant


class SqlControlBook:
    """The control panel's writes, in one transaction."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def set_outage(self, until: datetime | None) -> datetime | None:
        stmt = insert(control).values(id=1, outage_until=until, outages=1 if until else 0)
        if until is None:
            stmt = stmt.on_conflict_do_update(index_elements=["id"], set_={"outage_until": None})
        else:
            stmt = stmt.on_conflict_do_update(
                index_elements=["id"],
                set_={
                    "outage_until": func.greatest(control.c.outage_until, until),
                    "outages": control.c.outages + 1,
                },
            )
        await self.conn.execute(stmt)
        end: datetime | None = (
            await self.conn.execute(select(control.c.outage_until).where(control.c.id == 1))
        ).scalar_one()
        return end

    async def nik_of(self, kpj: str) -> str | None:
        row = (await self.conn.execute(select(participants.c.nik).where(participants.c.kpj == kpj))).first()
        return None if row is None else str(row.nik)

    async def held_pairs(self, niks: Sequence[str], kpjs: Sequence[str]) -> set[tuple[str, str]]:
        # Two array parameters, not one parameter per value: a list may hold tens of thousands.
        nik_list = bindparam("niks", list(niks), type_=ARRAY(Text))
        kpj_list = bindparam("kpjs", list(kpjs), type_=ARRAY(Text))
        rows = await self.conn.execute(
            select(participants.c.nik, participants.c.kpj).where(
                (participants.c.nik == any_(nik_list)) | (participants.c.kpj == any_(kpj_list))
            )
        )
        return {(r.nik, r.kpj) for r in rows}

    async def add_known(self, known: Sequence[KnownParticipant]) -> bool:
        try:
            async with self.conn.begin_nested():
                await self.conn.execute(
                    insert(participants),
                    [{"nik": p.nik, "kpj": p.kpj, "registered_at": p.registered_at} for p in known],
                )
        except IntegrityError:
            return False
        return True


def sql_control_book(tx: StoreTransaction) -> SqlControlBook:
    """The control panel of a kit transaction on PostgreSQL."""
    if not isinstance(tx, PostgresTransaction):
        raise TypeError(f"the control panel needs a PostgreSQL transaction, not {type(tx).__name__}")
    return SqlControlBook(tx.conn)


async def read_outage(engine: AsyncEngine) -> datetime | None:
    """When the outage in force ends (None: none was ever set, or it was lifted)."""
    async with engine.connect() as conn:
        row = (await conn.execute(select(control.c.outage_until).where(control.c.id == 1))).first()
    return None if row is None else row.outage_until


async def next_due(engine: AsyncEngine) -> datetime | None:
    """When the earliest held message falls due (None: nothing held)."""
    async with engine.connect() as conn:
        due: datetime | None = (
            await conn.execute(
                select(func.min(held_messages.c.due_at)).where(held_messages.c.released_at.is_(None))
            )
        ).scalar_one()
    return due
