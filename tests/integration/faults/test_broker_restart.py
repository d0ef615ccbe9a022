"""The broker stopped and started again while events flow: the outcome is the fault-free one.

On Apache Kafka (the default here) the node comes back with its data on disk: topics, messages
and committed offsets survive, producers retry what was in flight, consumers resume where they
committed; no relay publishes again (the cluster id is the same).

On Tansu (LINDUNG_TEST_BROKER=tansu), in memory, it comes back empty: no topics, no messages, no
consumer offsets. Nothing is lost because every event is still in its producer's outbox: each
relay sees that the broker is another one (its cluster id changed), creates the topics again and
publishes its whole outbox again; the consumers read the new topics from the start and their
inboxes drop what they applied before.

Either way the regency system, which owns no outbox of ours, sends the wave's nominations again
with their event ids, as a sender does that had no reply.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.infra import Infra
from tests.integration.faults import observe
from tests.integration.faults.conftest import Reference, fresh_run, own_broker
from tests.integration.faults.run import Run
from tests.integration.faults.test_kills import grown

pytestmark = pytest.mark.integration

# wave -> the service whose input must be flowing when the broker goes
RESTARTS = {1: "allocation", 3: "bpjs_simulator"}


async def test_broker_restarted_mid_flow_loses_nothing_and_applies_nothing_twice(
    infra: Infra, reference: Reference, tmp_path: Path
) -> None:
    began = time.monotonic()
    restarts: list[str] = []

    with own_broker() as broker:

        async def restart_broker(run: Run, wave: int) -> None:
            await run.send(wave)
            if wave not in RESTARTS:
                return
            service = RESTARTS[wave]
            before = reference.inbox_after[wave - 1][service]
            at = await grown(run, service, await observe.inbox_count(run.engine, service))
            await asyncio.to_thread(broker.restart)
            restarts.append(
                f"with {service} at {at - before}/{reference.inbox_after[wave][service] - before} "
                "of its wave's input"
            )
            await run.resend(wave + 1)

        async with fresh_run(infra, tmp_path, broker) as run:
            await run.drive(restart_broker)
            outcome = await run.outcome()
    assert outcome.differences(reference.outcome) == []
    print(
        f"\n{type(broker).__name__} restarts x{len(restarts)}: {'; '.join(restarts)}; {outcome.totals()}; "
        f"same as fault-free; {time.monotonic() - began:.1f} s"
    )
