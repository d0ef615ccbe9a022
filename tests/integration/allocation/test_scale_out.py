"""Two allocation instances in one consumer group on a four-partition topic never overrun a quota
or the budget, and never assign a worker twice.

Both instances decide on the same programme stream at once (each holds two partitions of
`lindung.registry.v1`); small consumer batches make their transactions interleave, so appends
race and the loser's ConcurrencyError is retried by the consumer on a reloaded state. The
assertions replay the whole stream event by event: no prefix of it ever has more workers in a
cell than its seats, or more in the programme than the budget pays for.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import uuid
from collections.abc import AsyncIterator

import pytest

from libs.events import decode, topics
from libs.events.contracts.common import Funder
from libs.settings import get_settings
from services.allocation.application.quota_stream import to_domain
from services.allocation.domain.quota import QuotaState, promotions_due
from services.allocation.domain.quota_events import Assign, Release, Unseat
from services.allocation.entrypoints.app import definition
from tests.infra import Infra, started_broker
from tests.integration.allocation.support import (
    People,
    Service,
    allocation_records,
    consumed,
    drained,
    prepare,
    produce,
    programme_yaml,
    serving,
    stored,
    validated,
    withdrawn,
)
from tests.integration.allocation.test_assignment import at
from tests.running import eventually

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:6].upper()
CODE = f"SCALE-{RUN}"
COST = 16_800 * 12
SEATS = {
    ("12.71", "sawit"): 40,
    ("12.04", "non_sawit"): 30,
    ("12.10", "sawit"): 30,
    ("12.17", "non_sawit"): 20,
}
AFFORDABLE = 100  # of 120 seats: the budget binds too
DEMAND = {
    ("12.71", "sawit"): 90,
    ("12.04", "non_sawit"): 70,
    ("12.10", "sawit"): 45,
    ("12.17", "non_sawit"): 55,
}


@pytest.fixture(scope="module")
async def own_infra(infra: Infra) -> AsyncIterator[Infra]:
    """The session's PostgreSQL and a broker of this module's own, Apache Kafka unless
    LINDUNG_TEST_BROKER says otherwise: a consumer group of two instances that rebalances is what
    production runs. On Tansu the group that shrank (two instances, then none) rejoins for ever,
    which would hang the package's later allocation services on a shared broker."""
    with started_broker("kafka") as broker:
        yield dataclasses.replace(infra, bootstrap=broker.bootstrap, broker=broker)


@pytest.fixture(scope="module")
async def pair(own_infra: Infra) -> AsyncIterator[tuple[Service, Service]]:
    await prepare(own_infra, LINDUNG_CONSUMER_BATCH_SIZE="20")
    assert get_settings().topic_partitions == 4
    async with (
        serving(definition(), own_infra.bootstrap) as first,
        serving(definition(), own_infra.bootstrap) as second,
    ):

        async def split() -> bool:  # the group rebalanced: two partitions of the registry topic each
            return registry_partitions(first) == registry_partitions(second) == 2

        await eventually(split, timeout_s=30)
        yield first, second


def registry_partitions(service: Service) -> int:
    assert service.rt.broker is not None
    return sum(
        1
        for sub in service.rt.broker.subscribers
        for tp in sub.consumer.assignment()
        if tp.topic == topics.REGISTRY
    )


async def test_two_instances_never_overrun_seats_or_budget(pair: tuple[Service, Service]) -> None:
    first, second = pair
    await first.define(programme_yaml(CODE, SEATS, AFFORDABLE * COST + 150_000))
    people = People(seed=4)
    workers = [
        people.worker(r, s, decile=people.rng.choice((1, 2, None)))
        for (r, s), n in DEMAND.items()
        for _ in range(n)
    ]
    people.rng.shuffle(workers)
    envelopes = [validated(w, CODE) for w in workers]
    # Redeliveries and repeats: the same events again, and the same facts under new event ids.
    repeats = [e.model_copy(update={"event_id": uuid.uuid4()}) for e in envelopes[::7]]
    await asyncio.gather(
        produce(first.bootstrap, "lindung.registry.v1", envelopes[: len(envelopes) // 2]),
        produce(first.bootstrap, "lindung.registry.v1", envelopes[len(envelopes) // 2 :] + repeats),
    )
    await produce(first.bootstrap, "lindung.registry.v1", envelopes[::11])
    await consumed(first.engine, envelopes + repeats, timeout_s=120)

    # Both instances decided, and each saw the other's appends to the programme's stream.
    assert first.rt.consumer is not None and second.rt.consumer is not None
    assert first.rt.consumer.applied > 0 and second.rt.consumer.applied > 0
    handlers = [s.rt.definition.handler for s in pair]
    catch_ups = sum(h.allocator.states.catch_ups + h.allocator.states.rebuilds for h in handlers)  # type: ignore[union-attr]
    races = sum(h.allocator.races_lost for h in handlers)  # type: ignore[union-attr]
    print(
        f"\ncache catch-ups+rebuilds over both instances: {catch_ups}; appends that lost a race "
        f"(retried): {races}; applied: {first.rt.consumer.applied}+{second.rt.consumer.applied}"
    )
    assert catch_ups > 2  # beyond each instance's first load: the streams interleaved
    assert races > 0  # and appends collided: the optimistic-concurrency path was taken

    # Replay: at no point more workers in a cell than its seats, nor more than the budget pays.
    history = await stored(first.engine, CODE)
    state = QuotaState()
    decisions: collections.Counter[str] = collections.Counter()
    seats_taken: collections.Counter[str] = collections.Counter()
    for env in history:
        decision = to_domain(decode(env))
        if decision is None:
            continue
        state.apply(decision)  # refuses a worker assigned twice or released twice
        if isinstance(decision, Assign):
            seats_taken[decision.worker_id] += 1
            assert state.assigned_per_cell[decision.cell] <= state.seats[decision.cell]
            assert len(state.assigned) <= AFFORDABLE
        elif isinstance(decision, Unseat | Release):
            seats_taken[decision.worker_id] -= 1
        if env.event_type in ("QuotaAssigned", "QuotaWaitlisted") and not env.payload.get("promoted"):
            decisions[env.payload["worker_id"]] += 1

    assert len(state.assigned) == AFFORDABLE  # demand exceeds the budget: it is spent exactly
    assert all(n in (0, 1) for n in seats_taken.values())
    assert set(decisions) == {w.worker_id for w in workers} and set(decisions.values()) == {1}
    assert len(state.waitlist) == len(workers) - AFFORDABLE

    programme = await second.get(f"/programmes/{CODE}")
    assert programme["assigned"] == AFFORDABLE and programme["waitlisted"] == len(workers) - AFFORDABLE
    assert programme["budget"]["committed_rupiah"] == AFFORDABLE * COST <= programme["budget"]["budget_cap"]
    for cell in await first.get(f"/programmes/{CODE}/quotas"):
        assert cell["assigned"] <= cell["seats"]
        assert cell["assigned"] == state.assigned_per_cell.get((cell["regency_code"], cell["sector"]), 0)
    assert sum(c["assigned"] for c in await first.get(f"/programmes/{CODE}/quotas")) == AFFORDABLE

    # What left on the bus is exactly what was stored, once each.
    await drained(first.rt)
    await drained(second.rt)
    published = await allocation_records(first.bootstrap, {CODE}, expected=len(history))
    assert sorted(e.event_id for e in published) == sorted(e.event_id for e in history)


async def test_two_instances_never_let_two_programmes_pay_for_one_worker(
    pair: tuple[Service, Service],
) -> None:
    """Sixty workers proposed by two overlapping Labuhanbatu programmes, in random order, then a
    few withdrawn: promotions in both programmes race on the two instances."""
    first, second = pair
    apbd, dbh = f"SCALE-APBD-{RUN}", f"SCALE-DBH-{RUN}"
    regency = {"jurisdiction": "12.10", "decree_kind": "SK_BUPATI"}
    await first.define(
        programme_yaml(apbd, {("12.10", "sawit"): 15}, 100 * COST, funder="APBD_KABUPATEN", **regency)
    )
    await first.define(
        programme_yaml(dbh, {("12.10", "sawit"): 15}, 100 * COST, funder="DBH_SAWIT", **regency)
    )
    assert first.rt.consumer is not None and second.rt.consumer is not None
    before = (first.rt.consumer.applied, second.rt.consumer.applied)
    people = People(seed=44)
    rng = people.rng
    workers = [people.worker("12.10", "sawit", rng.choice((1, 2))) for _ in range(60)]
    proposals = [
        validated(at(w, rng.randrange(0, 600)), code, funder)
        for w in workers
        for code, funder in ((apbd, Funder.APBD_KABUPATEN), (dbh, Funder.DBH_SAWIT))
    ]
    rng.shuffle(proposals)
    await produce(first.bootstrap, topics.REGISTRY, proposals)
    await consumed(first.engine, proposals, timeout_s=120)
    leaving = rng.sample(workers, 12)
    departures = [withdrawn(w, code, "moved") for w in leaving for code in (apbd, dbh)]
    await produce(first.bootstrap, topics.REGISTRY, departures)
    await consumed(first.engine, departures, timeout_s=120)
    assert first.rt.consumer.applied > before[0] and second.rt.consumer.applied > before[1]

    seats: dict[str, set[str]] = {}
    for code in (apbd, dbh):
        state = QuotaState()
        for env in await stored(first.engine, code):
            decision = to_domain(decode(env))
            if decision is not None:
                state.apply(decision)
        assert len(state.assigned) <= 15
        assert promotions_due(state) == ()  # nobody waits who could be seated
        seats[code] = set(state.assigned)
        rows = await first.get(f"/programmes/{code}/assignments", status="assigned")
        assert {r["worker_id"] for r in rows} == seats[code]
    assert not seats[apbd] & seats[dbh]  # one payer per worker
    assert not (seats[apbd] | seats[dbh]) & {w.worker_id for w in leaving}
    # Thirty seats, forty-eight workers staying: both programmes are full.
    assert len(seats[apbd]) == len(seats[dbh]) == 15
