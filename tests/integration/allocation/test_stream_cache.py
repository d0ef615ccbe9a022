"""The cache of programme states (adapters/stream_cache.py) advances when a transaction commits:
a committed batch's own events are never read back, a rolled-back batch leaves the cache as the
last commit did (no rebuild), and another instance's appends are caught up on."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any, cast

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db import make_engine
from libs.events import decode
from libs.events.envelope import Envelope
from libs.messaging.consumer import Consumed
from libs.runtime.definition import stream_store_of
from libs.runtime.migrate import upgrade_all
from libs.settings import get_settings
from services.allocation.adapters.stream_cache import ProgrammeStates
from services.allocation.adapters.tables import eventstore
from services.allocation.application.commands import Commands
from services.allocation.application.handlers import AllocationHandler
from services.allocation.bootstrap import bootstrap
from tests.infra import Infra, fresh_database_url
from tests.integration.allocation.direct import Direct, read_models
from tests.integration.allocation.support import People, programme_yaml, validated

pytestmark = pytest.mark.integration


class Refused(Exception):
    """Raised inside a batch's transaction, after its decisions, to roll it back."""


@pytest.fixture
async def url(infra: Infra) -> AsyncIterator[str]:
    found = await asyncio.to_thread(fresh_database_url, infra, "lindung_alloc")
    await asyncio.to_thread(upgrade_all, found, ("allocation",))
    yield found


async def test_the_cache_follows_commits_and_forgets_rollbacks(url: str) -> None:
    direct = Direct.over(url)
    states = direct.reactor.allocator.states
    assert isinstance(states, ProgrammeStates)
    code = f"CACHE-{uuid.uuid4().hex[:6].upper()}"
    await direct.define(programme_yaml(code, {("12.71", "sawit"): 5}, 10**12))
    people = People(seed=99)
    workers = [people.worker("12.71", "sawit", decile=1 + n % 4) for n in range(12)]

    await direct.react([validated(w, code) for w in workers[:6]])
    assert (states.rebuilds, states.catch_ups) == (0, 0)  # the definition and seats, as appended

    second = [validated(w, code) for w in workers[6:]]
    with pytest.raises(Refused):
        async with direct.store.transaction() as tx:
            items = [Consumed(None, e, decode(e), e) for e in second]  # type: ignore[arg-type]
            await direct.reactor.react(tx, items)
            raise Refused
    await direct.react(second)
    assert (states.rebuilds, states.catch_ups) == (0, 0)

    # Another instance (its cache empty) appends: this one then reads that event only.
    fresh = Direct.over(url)
    later = [people.worker("12.71", "sawit", decile=1) for _ in range(3)]
    await direct.react([validated(w, code) for w in later[:2]])
    await fresh.react([validated(later[2], code)])
    fresh_states = fresh.reactor.allocator.states
    assert isinstance(fresh_states, ProgrammeStates) and fresh_states.rebuilds == 1
    await direct.react([validated(people.worker("12.71", "sawit", decile=2), code)])
    assert (states.rebuilds, states.catch_ups) == (0, 1)  # the fresh one's event, read
    async with direct.engine.connect() as conn:
        versions = (await conn.execute(select(eventstore.events.c.aggregate_version))).scalars().all()
    assert len(versions) == len(set(versions))
    await direct.engine.dispose()
    await fresh.engine.dispose()


async def _run(
    url: str, capacity: int, codes: list[str], batches: list[tuple[int, list[Envelope]]]
) -> Direct:
    """Programmes `codes` defined, then each batch (programme index, its envelopes) reacted to by
    one instance keeping at most `capacity` programme states."""
    settings = get_settings().model_copy(update={"allocation_programme_states": capacity})
    definition = bootstrap(settings)
    engine = make_engine(url, pool_size=2)
    direct = Direct(
        engine,
        stream_store_of(definition, engine, None),
        cast(Commands, definition.application),
        cast(AllocationHandler, definition.handler),
    )
    for code in codes:
        await direct.define(programme_yaml(code, {("12.71", "sawit"): 4, ("12.04", "non_sawit"): 3}, 10**12))
    for n, (_, batch) in enumerate(batches):
        await direct.react(batch)
        if n == 2:  # a decree on the first programme while it is out of a small cache
            await direct.commands.issue_decree(
                direct.kit, codes[0], "188.44/7/KPTS/2026", date(2026, 2, 1), "Gubernur"
            )
    return direct


async def _streams(engine: AsyncEngine) -> list[tuple[object, ...]]:
    events = eventstore.events
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(
                events.c.aggregate_id, events.c.aggregate_version, events.c.event_type, events.c.payload
            ).order_by(events.c.aggregate_id, events.c.aggregate_version)
        )
        return [tuple(r) for r in rows]


async def test_an_evicted_programme_is_rebuilt_and_decides_as_if_it_had_stayed(
    url: str, infra: Infra
) -> None:
    codes = [f"LRU{n}-{uuid.uuid4().hex[:4].upper()}" for n in range(3)]
    people = People(seed=17)
    batches: list[tuple[int, list[Envelope]]] = []
    for round_ in range(3):
        for p, code in enumerate(codes):
            cells = [("12.71", "sawit"), ("12.04", "non_sawit")]
            workers = [people.worker(*cells[n % 2], decile=1 + (n + round_ + p) % 4) for n in range(4)]
            batches.append((p, [validated(w, code) for w in workers]))

    small = await _run(url, 1, codes, batches)
    states = small.reactor.allocator.states
    assert isinstance(states, ProgrammeStates)
    assert states.kept == [f"programme-{codes[2]}"] and states.evictions > 0
    assert states.rebuilds >= 6  # each programme's every later batch: it had left for another

    other = await asyncio.to_thread(fresh_database_url, infra, "lindung_alloc")
    await asyncio.to_thread(upgrade_all, other, ("allocation",))
    large = await _run(other, 8, codes, batches)
    large_states = large.reactor.allocator.states
    assert isinstance(large_states, ProgrammeStates)
    assert (large_states.rebuilds, large_states.evictions) == (0, 0)

    assert await _streams(small.engine) == await _streams(large.engine)
    assert _timeless(await read_models(small.engine)) == _timeless(await read_models(large.engine))
    await small.engine.dispose()
    await large.engine.dispose()


def _timeless(models: dict[str, list[tuple[Any, ...]]]) -> dict[str, list[tuple[Any, ...]]]:
    """The read models without their clock times (the two runs ran at different times)."""
    return {
        name: [tuple(None if isinstance(v, datetime) else v for v in row) for row in rows]
        for name, rows in models.items()
    }
