"""One run of the scenario: a fresh database, topics, the five services as processes, the input
in waves, each wave settled before the next; a fault test injects its fault during a wave."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db import make_engine
from libs.events.topics import NOMINATIONS_INBOUND, all_topic_names
from libs.messaging.kafka import ensure_topics
from libs.runtime.migrate import upgrade
from services.bpjs_simulator.domain.insurer import InsurerBehaviour
from tests.integration.faults import observe
from tests.integration.faults.cluster import RUN_ENV, SERVICES, Cluster
from tests.integration.faults.scenario import PARTITIONS, PROGRAMME, Scenario, build, programme_definition
from tests.support.kafka import produce

SETTLE_TIMEOUT_S = float(os.environ.get("LINDUNG_FAULT_SETTLE_TIMEOUT_S", "120"))

WaveHook = Callable[["Run", int], Awaitable[None]]


def scenario() -> Scenario:
    """The input, built with the settings the services run with (pepper, simulator seed)."""
    behaviour = InsurerBehaviour(
        seed=int(RUN_ENV["LINDUNG_BPJS_SEED"]),
        nik_not_found_per_million=int(RUN_ENV["LINDUNG_BPJS_NIK_NOT_FOUND_PER_MILLION"]),
        age_min=15,
        age_max=65,
    )
    return build(RUN_ENV["LINDUNG_NIK_PEPPER"], behaviour)


@dataclass
class Run:
    cluster: Cluster
    engine: AsyncEngine
    scenario: Scenario
    interest: dict[str, frozenset[str]]
    sent: list[str] = field(default_factory=list)  # inbound event ids sent so far
    notes: list[str] = field(default_factory=list)
    wave_seconds: list[float] = field(default_factory=list)
    inbox_after: list[dict[str, int]] = field(default_factory=list)  # per wave, per service

    @property
    def bootstrap(self) -> str:
        return self.cluster.bootstrap

    async def prepare(self) -> None:
        """The programme (allocation), then the P3KE extract once the registry knows it."""
        async with httpx.AsyncClient(timeout=60) as http:
            answer = await http.post(
                f"{self.cluster.url('allocation')}/programmes", json=programme_definition()
            )
            assert answer.status_code == 201, answer.text
            deadline = time.monotonic() + 30
            while not any(
                p["programme_code"] == PROGRAMME
                for p in (await http.get(f"{self.cluster.url('registry')}/programmes")).json()
            ):
                assert time.monotonic() < deadline, "the registry did not learn the programme"
                await asyncio.sleep(0.1)
            imported = await http.post(
                f"{self.cluster.url('registry')}/reference/p3ke",
                content=self.scenario.p3ke_csv(),
                params={"source": "p3ke-uji.csv"},
            )
            assert imported.status_code == 201, imported.text

    async def send(self, wave: int) -> None:
        """A regency system publishes the wave's nominations (keyed by source_ref)."""
        items = [(n.source_ref, n.envelope()) for n in self.scenario.waves[wave]]
        await produce(self.bootstrap, NOMINATIONS_INBOUND, items, in_flight=True, linger_ms=5)
        self.sent += [str(e.event_id) for _, e in items]

    async def resend(self, waves: int) -> None:
        """The regency system sends again, unchanged, every nomination of the first `waves` waves
        (as it would when its messages may be lost): same event ids, so nothing happens twice."""
        items = [(n.source_ref, n.envelope()) for w in range(waves) for n in self.scenario.waves[w]]
        await produce(self.bootstrap, NOMINATIONS_INBOUND, items, in_flight=True, linger_ms=5)

    async def settle(self, timeout_s: float = SETTLE_TIMEOUT_S) -> None:
        deadline = time.monotonic() + timeout_s
        why: list[str] = []
        while time.monotonic() < deadline:
            self.cluster.check_alive()
            try:
                why = await observe.pending(self.engine, self.sent, self.interest)
            except DBAPIError as exc:
                # A connection broken by a database restart fails once; the pool then reconnects.
                why = [f"database: {type(exc.orig).__name__}"]
            if not why:
                return
            await asyncio.sleep(0.2)
        raise AssertionError(f"not settled within {timeout_s}s: {why}\n{self.cluster.tails()}")

    async def drive(self, during: WaveHook | None = None) -> None:
        """Every wave: send it (or let `during` send it and inject a fault), wait until it is
        settled, note each service's inbox count."""
        for wave in range(len(self.scenario.waves)):
            began = time.monotonic()
            if during is None:
                await self.send(wave)
            else:
                await during(self, wave)
            await self.settle()
            self.wave_seconds.append(time.monotonic() - began)
            self.inbox_after.append({s: await observe.inbox_count(self.engine, s) for s in SERVICES})

    async def outcome(self) -> observe.Outcome:
        assert await observe.twice(self.engine) == []
        return await observe.outcome(self.engine)


async def prepare_database(database_url: str) -> None:
    for service in SERVICES:
        await asyncio.to_thread(upgrade, service, database_url)


async def prepare_topics(bootstrap: str) -> None:
    await ensure_topics(bootstrap, all_topic_names(), PARTITIONS)


@asynccontextmanager
async def started(
    database_url: str, bootstrap: str, log_dir: Path, extra_env: Mapping[str, str] | None = None
) -> AsyncIterator[Run]:
    """Schemas, topics, the five services and the programme: a run ready for its first wave."""
    await prepare_database(database_url)
    await prepare_topics(bootstrap)
    cluster = Cluster(database_url, bootstrap, log_dir, dict(extra_env or {}))
    engine = make_engine(database_url, pool_size=2)
    try:
        await cluster.start_all()
        run = Run(cluster, engine, scenario(), observe.interested())
        await run.prepare()
        yield run
    finally:
        cluster.stop_all()
        await engine.dispose()
