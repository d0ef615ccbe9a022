"""A tiny service used to test the shared backbone through the real runtime."""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter
from sqlalchemy import Column, Integer, MetaData, Table, Text, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from libs.db import async_url
from libs.events.contracts.registry import NominationWithdrawn
from libs.eventstore.migration import create_eventstore
from libs.eventstore.ports import StoreTransaction
from libs.eventstore.postgres import PostgresTransaction
from libs.eventstore.tables import EventStoreTables, eventstore_tables
from libs.messaging.consumer import Consumed
from libs.runtime.service import ServiceDefinition

metadata = MetaData()


def ledger_tables(schema: str) -> tuple[EventStoreTables, Table]:
    md = MetaData()
    effects = Table(
        "effects",
        md,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("worker_id", Text, nullable=False),
        Column("note", Text, nullable=False),
        schema=schema,
    )
    return eventstore_tables(md, schema), effects


class LedgerHandler:
    """Writes one `effects` row per applied event; an event whose note is 'poison' always fails."""

    interested = frozenset({NominationWithdrawn.event_type})

    def __init__(self, effects: Table) -> None:
        self.effects = effects

    async def react(self, tx: StoreTransaction, items: Sequence[Consumed]) -> None:
        assert isinstance(tx, PostgresTransaction)
        for item in items:
            event = item.event
            assert isinstance(event, NominationWithdrawn)
            if event.note == "poison":
                raise ValueError("this event can never be applied")
            await tx.conn.execute(self.effects.insert().values(worker_id=event.worker_id, note=event.note))


async def create_schema(database_url: str, schema: str) -> tuple[EventStoreTables, Table]:
    tables, effects = ledger_tables(schema)
    engine = create_async_engine(async_url(database_url))
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
        await conn.run_sync(create_eventstore, schema)
        await conn.run_sync(lambda c: effects.create(c))
    await engine.dispose()
    return tables, effects


def ledger_definition(name: str, tables: EventStoreTables, effects: Table, topic: str) -> ServiceDefinition:
    return ServiceDefinition(
        name=name,
        tables=tables,
        router=APIRouter(),
        handler=LedgerHandler(effects),
        consumes=(topic,),
    )


async def count(conn: AsyncConnection, sql: str) -> int:
    return int((await conn.execute(text(sql))).scalar_one())
