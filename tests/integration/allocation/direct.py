"""Allocation's reactor on PostgreSQL without a broker: batches of consumed events handed to it in
one store transaction each, as the inbox consumer hands them (its inbox statement aside), and
the read models read back whole. For counting statements and comparing projections."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import yaml
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db import make_engine
from libs.events import decode
from libs.events.envelope import Envelope
from libs.eventstore.kit import StreamKit
from libs.eventstore.postgres import PostgresStore
from libs.eventstore.store import row_to_envelope
from libs.messaging.consumer import Consumed
from libs.runtime.definition import stream_store_of
from libs.settings import get_settings
from services.allocation.adapters.projections import project
from services.allocation.adapters.tables import (
    assignments,
    decree_entries,
    decrees,
    eventstore,
    programmes,
    quota_cells,
)
from services.allocation.application.commands import Commands
from services.allocation.application.handlers import AllocationHandler
from services.allocation.application.programmes import parse_programme
from services.allocation.bootstrap import bootstrap

READ_MODELS = (programmes, quota_cells, assignments, decrees, decree_entries)


@dataclass
class Direct:
    """One allocation instance's commands and reactor over a database (see the module doc)."""

    engine: AsyncEngine
    store: PostgresStore
    commands: Commands
    reactor: AllocationHandler

    @classmethod
    def over(cls, url: str) -> Direct:
        definition = bootstrap(get_settings())
        engine = make_engine(url, pool_size=2)
        return cls(
            engine,
            stream_store_of(definition, engine, None),
            cast(Commands, definition.application),
            cast(AllocationHandler, definition.handler),
        )

    @property
    def kit(self) -> StreamKit:
        return StreamKit(self.store)

    async def define(self, yaml_text: str) -> None:
        await self.commands.define_programme(self.kit, parse_programme(yaml.safe_load(yaml_text)))

    async def react(self, envelopes: Sequence[Envelope]) -> None:
        """One consumer batch: every envelope decided in one transaction."""
        items = [Consumed(cast(Any, None), e, decode(e), e) for e in envelopes]
        async with self.store.transaction() as tx:
            await self.reactor.react(tx, items)


async def read_models(engine: AsyncEngine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of allocation's read models, in key order."""
    found: dict[str, list[tuple[Any, ...]]] = {}
    async with engine.connect() as conn:
        for table in READ_MODELS:
            rows = await conn.execute(select(table).order_by(*table.primary_key.columns))
            found[table.name] = [tuple(r) for r in rows]
    return found


async def rebuilt_one_by_one(engine: AsyncEngine) -> None:
    """The read models emptied and rebuilt by projecting every stored event on its own, in order."""
    events = eventstore.events
    async with engine.begin() as conn:
        for table in reversed(READ_MODELS):
            await conn.execute(delete(table))
        for row in await conn.execute(select(events).order_by(events.c.position)):
            await project(conn, row_to_envelope(row))
