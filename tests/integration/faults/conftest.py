"""The fault-free run every fault test compares with, made once for the package.

Each run (this one and every faulted one) gets a fresh database on the session's PostgreSQL and
a broker of its own, Apache Kafka unless LINDUNG_TEST_BROKER=tansu: a later run must not meet an
earlier run's messages or consumer offsets on the same topics.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import package_infra  # noqa: F401  (`infra`: a broker of this package's own)
from tests.infra import AnyBroker, Infra, fresh_database_url, started_broker
from tests.integration.faults.observe import Outcome
from tests.integration.faults.run import Run, started


@dataclass(frozen=True)
class Reference:
    outcome: Outcome
    inbox_after: list[dict[str, int]]
    seconds: float


@contextmanager
def own_broker() -> Iterator[AnyBroker]:
    with started_broker("kafka") as broker:
        yield broker


@asynccontextmanager
async def fresh_run(infra: Infra, log_dir: Path, broker: AnyBroker | None = None) -> AsyncIterator[Run]:
    """A run on a fresh database of the session's server and its own broker (or `broker`)."""
    url = await asyncio.to_thread(fresh_database_url, infra, "lindung_fault")
    if broker is not None:
        async with started(url, broker.bootstrap, log_dir) as run:
            yield run
        return
    with own_broker() as mine:
        async with started(url, mine.bootstrap, log_dir) as run:
            yield run


@pytest.fixture(scope="package")
async def reference(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    began = time.monotonic()
    async with fresh_run(infra, tmp_path_factory.mktemp("fault-free")) as run:
        await run.drive()
        outcome = await run.outcome()
    seconds = time.monotonic() - began
    print(f"\nfault-free run: {outcome.totals()} in {seconds:.1f} s (waves {run.wave_seconds})")
    return Reference(outcome, run.inbox_after, seconds)
