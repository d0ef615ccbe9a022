"""The batch projection (adapters/batch_projection.py) leaves the read models the event-by-event
projection (adapters/projections.py, what audits replay) builds from the same events: seats,
provisional seats lost to poorer workers, waitlists, releases and promotions, declines across
two overlapping programmes, a decree and the workers after it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date

import pytest
from sqlalchemy import select

from libs.runtime.migrate import upgrade_all
from services.allocation.adapters.tables import eventstore
from tests.infra import Infra, fresh_database_url
from tests.integration.allocation.direct import Direct, read_models, rebuilt_one_by_one
from tests.integration.allocation.support import People, programme_yaml, validated, withdrawn

pytestmark = pytest.mark.integration

CELLS = {("12.71", "non_sawit"): 12, ("12.01", "sawit"): 8}


@pytest.fixture
async def direct(infra: Infra) -> AsyncIterator[Direct]:
    url = await asyncio.to_thread(fresh_database_url, infra, "lindung_alloc")
    await asyncio.to_thread(upgrade_all, url, ("allocation",))
    found = Direct.over(url)
    yield found
    await found.engine.dispose()


async def test_batched_read_models_equal_an_event_by_event_rebuild(direct: Direct) -> None:
    run = uuid.uuid4().hex[:6].upper()
    first, second = f"BATCH-A-{run}", f"BATCH-B-{run}"
    await direct.define(programme_yaml(first, CELLS, 10**12))
    await direct.define(programme_yaml(second, CELLS, 10**12, funder="OTHER"))
    people = People(seed=1717)
    cells = list(CELLS)
    workers = [people.worker(*cells[n % 2], decile=1 + (7 * n) % 4) for n in range(60)]
    for start in range(0, 40, 20):  # later, poorer workers take provisional seats
        await direct.react([validated(w, first) for w in workers[start : start + 20]])
    # Some leave (seats and waitlist places freed, the waitlist promoted), some are nominated
    # by the other programme too (declined there, or asking this one to let them go).
    await direct.react(
        [withdrawn(w, first) for w in workers[:30:4]] + [validated(w, second) for w in workers[10:30]]
    )
    await direct.commands.issue_decree(direct.kit, first, "188.44/1/KPTS/2026", date(2026, 2, 1), "Gubernur")
    await direct.react([validated(w, first) for w in workers[40:]])
    await direct.react([withdrawn(w, first) for w in workers[1:12:3]])

    batched = await read_models(direct.engine)
    await rebuilt_one_by_one(direct.engine)
    assert await read_models(direct.engine) == batched
    # The scenario reaches every kind of row the batch projection writes.
    assert {row[3] for row in batched["assignments"]} == {"assigned", "waitlisted", "released", "declined"}
    async with direct.engine.connect() as conn:
        kinds = set((await conn.execute(select(eventstore.events.c.event_type).distinct())).scalars())
    assert {"QuotaUnseated", "QuotaDeclined", "QuotaReleased", "AssignmentDecreed"} <= kinds
