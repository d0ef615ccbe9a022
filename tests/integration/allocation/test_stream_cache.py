"""The cache of programme states (adapters/stream_cache.py) advances when a transaction commits:
a committed batch's own events are never read back, a rolled-back batch leaves the cache as the
last commit did (no rebuild), and another instance's appends are caught up on."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from libs.events import decode
from libs.messaging.consumer import Consumed
from libs.runtime.migrate import upgrade_all
from services.allocation.adapters.stream_cache import ProgrammeStates
from services.allocation.adapters.tables import eventstore
from tests.infra import Infra, fresh_database_url
from tests.integration.allocation.direct import Direct
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
