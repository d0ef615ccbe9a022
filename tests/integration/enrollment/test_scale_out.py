"""Three enrollment instances in one consumer group (as `lindung up --scale enrollment=3` runs
them) register every assigned worker exactly once, with one KPJ each.

The package's instance is joined by two more on the same schema and topics: the group splits
the four partitions of `lindung.allocation.v1` and `lindung.bpjs.results.v1` between them, so
requests leave from one instance and answers are applied by another, and every instance runs
its own timeout and retry clock over the same registrations (the misbehaving simulator makes
those fire). Assignments are published twice, and again under new event ids, as replays would.

The three instances and a simulator run on a database and a broker of their own, Apache Kafka
unless LINDUNG_TEST_BROKER says otherwise (a group of three that rebalances is what production
runs); on Tansu a consumer group that members left stays in a state where the next member rejoins
for ever (generation never advancing), so the package's shared broker must not see this group shrink.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from libs.events import Envelope, topics
from libs.events.contracts.common import Funder
from libs.messaging.kafka import ensure_topics
from libs.runtime.migrate import upgrade
from libs.runtime.service import Runtime
from libs.settings import get_settings
from services.bpjs_simulator.entrypoints.app import definition as simulator_definition
from services.enrollment.adapters.tables import registrations
from services.enrollment.entrypoints.app import definition as enrollment_definition
from tests.infra import Infra, fresh_database_url, started_broker
from tests.integration.enrollment.conftest import CHAOS
from tests.integration.enrollment.support import (
    Programme,
    Stack,
    all_events,
    assigned,
    envelope,
    make_worker,
    produce,
)
from tests.running import eventually, running, use_env

pytestmark = pytest.mark.integration

START, END = date(2026, 1, 1), date(2026, 12, 31)
REGENCIES = ("12.17", "12.10", "12.71", "12.04", "12.12", "12.07")
INSTANCES = 3
WORKERS = 120


@pytest.fixture
async def own_stack(stack: Stack, infra: Infra) -> AsyncIterator[list[Runtime]]:
    """A simulator and three enrollment instances on a fresh database and a broker of their own
    (the package's settings otherwise); the package's environment is restored afterwards."""
    saved = dict(os.environ)
    try:
        with started_broker("kafka") as broker:
            url = await asyncio.to_thread(fresh_database_url, infra)
            for service in ("enrollment", "bpjs_simulator"):
                await asyncio.to_thread(upgrade, service, url)
            use_env(url, broker.bootstrap, **CHAOS)
            await ensure_topics(broker.bootstrap, topics.all_topic_names(), get_settings().topic_partitions)
            async with AsyncExitStack() as services:
                await services.enter_async_context(running(simulator_definition(now=stack.clock.now)))
                instances = [
                    await services.enter_async_context(running(enrollment_definition(now=stack.clock.now)))
                    for _ in range(INSTANCES)
                ]
                yield instances
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()


async def test_three_instances_register_each_worker_once(stack: Stack, own_stack: list[Runtime]) -> None:
    instances = own_stack
    engine = instances[0].engine
    bootstrap = get_settings().kafka_bootstrap_servers or ""
    stack.clock.set_day(date(2026, 1, 5))
    programme = Programme(f"SCALE-{uuid.uuid4().hex[:6].upper()}", Funder.APBD_PROVINSI, START, END)
    workers = [make_worker(stack.rng, stack.pepper, REGENCIES[i % len(REGENCIES)]) for i in range(WORKERS)]
    items: list[tuple[str, Envelope]] = []
    for i, w in enumerate(workers):
        env = envelope(assigned(w, programme), f"quota-{programme.code}", i + 1)
        items.append((w.worker_id, env))
        if i % 3 == 0:
            items.append((w.worker_id, env))  # redelivered as is
        if i % 5 == 0:
            items.append((w.worker_id, env.model_copy(update={"event_id": uuid.uuid4()})))  # replayed

    async def spread() -> list[int] | None:
        held = [rt.assigned_partitions() for rt in instances]
        return held if all(n > 0 for n in held) else None

    # Every instance holds partitions before the work arrives: all three take part.
    held = await eventually(spread, timeout_s=30, interval_s=0.2)
    await produce(bootstrap, items)

    async def all_settled() -> list[Any] | None:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(registrations).where(registrations.c.programme_code == programme.code)
                )
            ).all()
        done = len(rows) == WORKERS and all(r.status != "requested" for r in rows)
        return rows if done else None

    rows = await eventually(all_settled, timeout_s=120, interval_s=0.5)

    # One registration stream per worker, one outcome each, attempts numbered without a gap.
    mine = {f"registration-{w.worker_id}:{programme.code}" for w in workers}
    per_stream: dict[str, list[Envelope]] = defaultdict(list)
    for e in await all_events(instances[0]):
        if e.aggregate_id in mine:
            per_stream[e.aggregate_id].append(e)
    assert set(per_stream) == mine
    retried = 0
    for stream, history in per_stream.items():
        types = [e.event_type for e in history]
        assert sum(t in ("EnrolledAtBPJS", "EnrollmentFailed") for t in types) == 1, (stream, types)
        attempts = [e.payload["attempt"] for e in history if e.event_type == "RegistrationRequested"]
        assert attempts == list(range(1, len(attempts) + 1)), (stream, attempts)
        retried += len(attempts) > 1

    # No KPJ issued twice.
    kpjs = [r.kpj for r in rows if r.status == "enrolled"]
    assert kpjs and len(kpjs) == len(set(kpjs))
    print(
        f"\n{INSTANCES} enrollment instances holding {held} partitions: {WORKERS} workers, "
        f"{len(items)} assignments published, {len(kpjs)} enrolled, {WORKERS - len(kpjs)} failed, "
        f"{retried} retried; one outcome each, no KPJ twice"
    )
