"""PostgreSQL restarted under load: the outcome is the fault-free one.

A PostgreSQL server of this test's own (the embedded PostgreSQL 18; the session's shared server is
never touched) is stopped while events flow, twice: once in "immediate" mode (no checkpoint, crash
recovery at the next start) while the registry applies a wave, once in "fast" mode (open
transactions rolled back) while the simulator answers. It stays down `PG_DOWN_S` seconds, then
starts again on the same data directory and socket. Services see connections drop and wait: the
consumers retry the batch until the database answers, the relays retry publishing.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from lindung_cli.embedded import EmbeddedPostgres
from tests.infra import create_database
from tests.integration.faults import observe
from tests.integration.faults.conftest import Reference, own_broker
from tests.integration.faults.run import Run, started
from tests.integration.faults.test_kills import grown

pytestmark = pytest.mark.integration

PG_DOWN_S = 2.0
# wave -> (service whose input must be flowing, shutdown mode)
RESTARTS = {1: ("registry", "immediate"), 3: ("bpjs_simulator", "fast")}


async def test_postgres_restarted_under_load_loses_nothing_and_applies_nothing_twice(
    reference: Reference, tmp_path: Path
) -> None:
    began = time.monotonic()
    postgres = await asyncio.to_thread(EmbeddedPostgres(tmp_path / "pg" / "data").start)
    restarts: list[str] = []

    async def restart_postgres(run: Run, wave: int) -> None:
        if wave not in RESTARTS:
            await run.send(wave)
            return
        service, mode = RESTARTS[wave]
        before = await observe.inbox_count(run.engine, service)
        await run.send(wave)
        at = await grown(run, service, before)
        await asyncio.to_thread(postgres.stop, mode)
        down = time.monotonic()
        await asyncio.sleep(PG_DOWN_S)  # the deliberate outage
        await asyncio.to_thread(postgres.start)
        wave_end = reference.inbox_after[wave][service]
        restarts.append(
            f"{mode} stop with {service} at {at - before}/{wave_end - before} of its wave's input, "
            f"down {time.monotonic() - down:.1f} s"
        )

    try:
        url = await create_database(postgres.url, "lindung_fault")
        with own_broker() as broker:
            async with started(url, broker.bootstrap, tmp_path / "logs") as run:
                await run.drive(restart_postgres)
                outcome = await run.outcome()
    finally:
        await asyncio.to_thread(postgres.stop)
    assert outcome.differences(reference.outcome) == []
    print(
        f"\nPostgreSQL restarts x{len(restarts)}: {'; '.join(restarts)}; {outcome.totals()}; "
        f"same as fault-free; {time.monotonic() - began:.1f} s"
    )
