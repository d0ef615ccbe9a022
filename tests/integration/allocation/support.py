"""Helpers for allocation's integration tests: WorkerValidated envelopes in, decisions out.

Everything goes through the real path: envelopes produced on `lindung.registry.v1` (producer
"registry", keyed by worker id), the allocation consumer, PostgreSQL, the outbox relay and
`lindung.allocation.v1`.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events import topics
from libs.events.contracts.common import Funder, WorkerIdentity
from libs.events.contracts.enrollment import EnrollmentFailed
from libs.events.contracts.registry import NominationWithdrawn, WorkerValidated
from libs.events.envelope import Envelope
from libs.identity import worker_id_for
from libs.messaging.kafka import ensure_topics
from libs.runtime.migrate import upgrade
from libs.runtime.service import Runtime, ServiceDefinition
from libs.settings import get_settings
from services.allocation.adapters.tables import eventstore
from services.allocation.entrypoints.app import definition
from tests.infra import Infra, fresh_database_url
from tests.running import eventually, serving_http, use_env
from tests.support import kafka
from tests.support.envelopes import envelope_of
from tests.support.stack import partial_stack, topics_of

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"
T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
FIRST_NAMES = (
    "Rosmawati",
    "Budi",
    "Siti",
    "Darwin",
    "Nurhayati",
    "Togar",
    "Maria",
    "Amri",
    "Lisbet",
    "Yusuf",
)
LAST_NAMES = ("Sinaga", "Nasution", "Siregar", "Lubis", "Harahap", "Simanjuntak", "Tanjung", "Zebua")


@dataclass
class Worker:
    """A validated worker as the registry would describe them."""

    nik: str
    worker_id: str
    full_name: str
    regency: str
    sector: str
    decile: int | None
    nominated_at: datetime
    nomination_id: str = field(default_factory=lambda: f"nom-{uuid.uuid4().hex[:12]}")


class People:
    """Makes workers with unique NIKs (run-unique: topics outlive the test databases)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.serial = 0

    def worker(
        self, regency: str, sector: str, decile: int | None = 1, *, minutes: float | None = None
    ) -> Worker:
        self.serial += 1
        digits = regency.replace(".", "")
        nik = f"{digits}{self.rng.randrange(10**12):012d}"
        name = f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"
        at = T0 + timedelta(minutes=self.serial if minutes is None else minutes)
        return Worker(nik, worker_id_for(nik, get_settings().nik_pepper), name, regency, sector, decile, at)


def validated(w: Worker, programme_code: str, funder: Funder = Funder.APBD_PROVINSI) -> Envelope:
    event = WorkerValidated(
        worker_id=w.worker_id,
        nomination_id=w.nomination_id,
        programme_code=programme_code,
        identity=WorkerIdentity(nik=w.nik, full_name=w.full_name, birth_date="1985-03-04", sex="L"),
        occupation="petani",
        regency_code=w.regency,
        sector=w.sector,  # type: ignore[arg-type]
        decile=w.decile,
        funder=funder,
        poverty_source="P3KE" if w.decile else "DTKS",
        reference_version="p3ke:test;dtks:test",
        nominated_at=w.nominated_at,
    )
    return envelope_of(event, "registry", f"worker-{w.worker_id}")


def withdrawn(w: Worker, programme_code: str, reason: str = "died") -> Envelope:
    event = NominationWithdrawn(
        worker_id=w.worker_id,
        nomination_id=w.nomination_id,
        programme_code=programme_code,
        regency_code=w.regency,
        reason=reason,  # type: ignore[arg-type]
        withdrawn_by="test",
    )
    return envelope_of(event, "registry", f"worker-{w.worker_id}")


def enrollment_failed(w: Worker, programme_code: str) -> Envelope:
    event = EnrollmentFailed(
        worker_id=w.worker_id,
        programme_code=programme_code,
        regency_code=w.regency,
        reason_code="NIK_NOT_FOUND",
        reason="NIK tidak ditemukan di Dukcapil",
        request_id=f"{w.worker_id}:{programme_code}",
    )
    return envelope_of(event, "enrollment", f"registration-{w.worker_id}:{programme_code}")


async def produce(bootstrap: str, topic: str, envelopes: Sequence[Envelope]) -> None:
    """Publish envelopes keyed by their worker id (all sends in flight, then awaited)."""
    keyed = [(str(e.payload["worker_id"]), e) for e in envelopes]
    await kafka.produce(bootstrap, topic, keyed, in_flight=True, linger_ms=5)


async def inbox_count(engine: AsyncEngine, event_ids: Iterable[uuid.UUID]) -> int:
    ids = list(event_ids)
    total = 0
    async with engine.connect() as conn:
        for i in range(0, len(ids), 1000):
            chunk = ids[i : i + 1000]
            query = select(func.count()).where(eventstore.inbox.c.event_id.in_(chunk))
            total += int((await conn.execute(query)).scalar_one())
    return total


async def consumed(engine: AsyncEngine, envelopes: Sequence[Envelope], timeout_s: float = 60.0) -> None:
    """Wait until every envelope is in allocation's inbox (applied or parked).

    Polls the inbox's size first (cheap), and checks the ids only once it is large enough: a
    poll must not load the database it is measuring.
    """
    ids = {e.event_id for e in envelopes}

    async def done() -> bool:
        async with engine.connect() as conn:
            size = int((await conn.execute(select(func.count()).select_from(eventstore.inbox))).scalar_one())
        return size >= len(ids) and await inbox_count(engine, ids) == len(ids)

    await eventually(done, timeout_s=timeout_s, interval_s=0.2)


async def allocation_records(
    bootstrap: str, programme_codes: set[str], expected: int, timeout_s: float = 30.0
) -> list[Envelope]:
    """Envelopes on `lindung.allocation.v1` about these programmes (the topic holds other runs')."""
    consumer = AIOKafkaConsumer(
        topics.ALLOCATION, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    mine: list[Envelope] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(mine) < expected and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                for r in records:
                    env = Envelope.from_bytes(r.value or b"")
                    if env.payload.get("programme_code") in programme_codes:
                        mine.append(env)
    finally:
        await consumer.stop()
    return mine


async def stored(engine: AsyncEngine, programme_code: str) -> list[Envelope]:
    from libs.eventstore.store import row_to_envelope

    events = eventstore.events
    async with engine.connect() as conn:
        rows = await conn.execute(
            select(events)
            .where(events.c.aggregate_id == f"programme-{programme_code}")
            .order_by(events.c.aggregate_version)
        )
        return [row_to_envelope(r) for r in rows]


async def drained(rt: Runtime) -> None:
    async def empty() -> bool:
        return await rt.relay.unsent() == 0

    await eventually(empty, timeout_s=30)


@dataclass
class Service:
    """One running allocation instance and an HTTP client over its routes."""

    rt: Runtime
    http: httpx.AsyncClient
    bootstrap: str

    @property
    def engine(self) -> AsyncEngine:
        return self.rt.engine

    async def define(self, yaml_text: str) -> dict[str, Any]:
        answer = await self.http.post(
            "/programmes", content=yaml_text.encode(), headers={"content-type": "application/yaml"}
        )
        assert answer.status_code in (200, 201), answer.text
        return dict(answer.json())

    async def feed(self, envelopes: Sequence[Envelope], topic: str = topics.REGISTRY) -> None:
        await produce(self.bootstrap, topic, envelopes)
        await consumed(self.engine, envelopes)

    async def get(self, path: str, **params: Any) -> Any:
        answer = await self.http.get(path, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()


# The topics allocation reads and writes.
TOPICS = topics_of(["allocation"])


async def prepare(infra: Infra, **env: str) -> str:
    """A migrated database, the environment pointed at it, the topics present (for the tests
    that run two instances of allocation; one instance: `one_instance`)."""
    url = await asyncio.to_thread(fresh_database_url, infra, "lindung_alloc")
    await asyncio.to_thread(upgrade, "allocation", url)
    use_env(url, infra.bootstrap, **env)
    await ensure_topics(infra.bootstrap, TOPICS, partitions=get_settings().topic_partitions)
    return url


@asynccontextmanager
async def serving(defn: ServiceDefinition, bootstrap: str) -> AsyncIterator[Service]:
    """Run `defn` and give an HTTP client over its routes."""
    async with serving_http(defn, "allocation") as (rt, http):
        yield Service(rt, http, bootstrap)


@asynccontextmanager
async def one_instance(infra: Infra, **env: str) -> AsyncIterator[Service]:
    """One allocation on a fresh database of its own, over the package's broker."""
    services = {"allocation": definition}
    async with (
        partial_stack(infra, services, prefix="lindung_alloc", env=env) as started,
        started.client("allocation") as http,
    ):
        yield Service(started.runtimes["allocation"], http, infra.bootstrap)


def programme_yaml(code: str, cells: dict[tuple[str, str], int], budget_cap: int, **extra: Any) -> str:
    """A provincial programme file with these cells (regency, sector) -> seats."""
    lines = [
        f"code: {code}",
        f"name: Uji alokasi {code}",
        f"year: {extra.pop('year', 2026)}",
        f"funder: {extra.pop('funder', 'APBD_PROVINSI')}",
        f'jurisdiction: "{extra.pop("jurisdiction", "12")}"',
        f"coverage_start: {extra.pop('coverage_start', date(2026, 1, 1).isoformat())}",
        f"budget_cap: {budget_cap}",
        f"decree_kind: {extra.pop('decree_kind', 'SK_GUBERNUR')}",
    ]
    lines += [f"{k}: {str(v).lower() if isinstance(v, bool) else v}" for k, v in extra.items()]
    lines.append("quotas:")
    lines += [f'  - {{regency: "{r}", sector: {s}, seats: {n}}}' for (r, s), n in cells.items()]
    return "\n".join(lines) + "\n"
