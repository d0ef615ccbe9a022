"""One realistic run of the whole system for the audit tests, started once for the package.

Registry, allocation, enrollment, claims and the BPJS simulator run in-process through their real
lifespans (consumers, relays, PostgreSQL, a Tansu broker). The run: two programmes (the demo
province programme and a small regency one that fills up and waitlists), a P3KE extract, about
three hundred nominations over HTTP (validated, rejected for their decile, duplicates; some too
old for BPJS, so enrollment fails, the seat is released and a waitlisted worker is promoted),
claims pushed by "BPJS" on its topic (one poison message parked), and one 2024-pilot event in
schema version 1 appended as the pilot did. `t1` is an instant between the two nomination
batches, with the allocation read model's beneficiary lists at that instant.

The broker is the package's own Tansu process: the session broker's topics hold other tests'
events under the same producer names, and a Kafka replay reads topics from the beginning.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import MetaData, insert, text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db import make_engine
from libs.events import topics
from libs.events.contracts.bpjs import ClaimPaid
from libs.events.envelope import Envelope, utcnow
from libs.eventstore.hashing import chain_hash
from libs.eventstore.store import outbox_row
from libs.eventstore.tables import eventstore_tables
from libs.identity import worker_id_for
from libs.messaging.kafka import ensure_topics
from libs.nik import compose_nik
from libs.regions import kecamatan_numbers, kecamatan_of_nik
from libs.runtime.migrate import SERVICES_WITH_SCHEMAS, upgrade_all
from libs.runtime.service import ServiceDefinition, create_app
from libs.settings import get_settings
from lindung_cli.audit.beneficiaries import Beneficiary, list_sha256
from lindung_cli.demo import demo_programme_path
from lindung_cli.status import consumer_lag
from tests.conftest import package_infra  # noqa: F401  (`infra`: a broker of this package's own)
from tests.infra import Infra, create_database, started_broker
from tests.integration.audit.support import drop_database
from tests.running import eventually, use_env
from tests.support.envelopes import envelope_of
from tests.support.kafka import Key, produce

DEMO = "DEMO-SUMUT-2026"
SMALL = "AUDIT-GUNUNGSITOLI-2026"
SMALL_YAML = f"""
code: {SMALL}
name: Audit test programme, Gunungsitoli 2026
year: 2026
funder: APBD_KABUPATEN
jurisdiction: "12.78"
coverage_start: 2026-01-01
budget_cap: 100000000
decree_kind: SK_BUPATI
requires_decree: false
quotas:
  - {{regency: "12.78", sector: non_sawit, seats: 8}}
"""
DEMO_CELLS = (("12.17", "non_sawit"), ("12.05", "sawit"), ("12.71", "sawit"), ("12.72", "non_sawit"))
BPJS_AGE_MAX = 55  # the programme allows 65: older workers are validated and assigned, then BPJS refuses


def definitions() -> dict[str, ServiceDefinition]:
    import importlib

    return {
        name: importlib.import_module(f"services.{name}.entrypoints.app").definition()
        for name in SERVICES_WITH_SCHEMAS
    }


@dataclass
class Worker:
    nik: str
    programme: str
    regency: str
    sector: str
    birth: date
    sex: str
    decile: int

    @property
    def worker_id(self) -> str:
        return worker_id_for(self.nik, get_settings().nik_pepper)

    def nomination(self) -> dict[str, Any]:
        return {
            "programme_code": self.programme,
            "nik": self.nik,
            "full_name": f"Pekerja {self.nik[-4:]}",
            "birth_date": self.birth.isoformat(),
            "sex": self.sex,
            "occupation": "petani",
            "regency_code": self.regency,
            "kecamatan": kecamatan_of_nik(self.nik).name,
            "desa": "Desa Uji",
            "sector": self.sector,
        }


@dataclass
class AuditRun:
    """What the tests need to know about the run."""

    database_url: str
    bootstrap: str
    engine: AsyncEngine
    definitions: dict[str, ServiceDefinition]
    workers: list[Worker]
    t1: datetime
    lists_at_t1: dict[str, tuple[int, str]]
    nominations_by_t1: int
    claims_sent: int
    legacy_nomination_id: str
    statuses: dict[str, int] = field(default_factory=dict)
    rates: dict[str, tuple[int, float]] = field(default_factory=dict)  # replay: (events, events/s)
    decrees: int = 0  # issued through allocation's HTTP API (0 where this build has no decree route)


def make_workers(rng: random.Random, first_serial: int, count: int, programme: str) -> list[Worker]:
    workers = []
    for i in range(count):
        if programme == SMALL:
            regency, sector = "12.78", "non_sawit"
        else:
            regency, sector = DEMO_CELLS[i % len(DEMO_CELLS)]
        sex = rng.choice("LP")
        # Ages 21..63 on 2026-01-01: those above BPJS_AGE_MAX fail at BPJS. In the small
        # programme every other worker is that old, so seats are released and waiters promoted.
        if programme == SMALL and i % 2 == 0:
            birth = date(1963, 1, 1) + timedelta(days=rng.randrange(0, 365 * 5))
        else:
            birth = date(1962, 6, 1) + timedelta(days=rng.randrange(0, 365 * 42))
        decile = rng.choice((1, 1, 1, 2, 2, 2, 2, 3))  # decile 3 is outside the programme's 1-2
        # A kecamatan the regency has (the registry refuses others); the same draws as before.
        numbers = kecamatan_numbers(regency)
        nik = compose_nik(
            regency, numbers[(rng.randint(1, 20) - 1) % len(numbers)], birth, sex, first_serial + i
        )
        workers.append(Worker(nik, programme, regency, sector, birth, sex, decile))
    return workers


async def quiet(engine: AsyncEngine, bootstrap: str) -> bool:
    """True when no outbox row waits, no consumer lags, and counts stay still for a moment."""

    async def snapshot() -> tuple[int, ...]:
        values = []
        async with engine.connect() as conn:
            for schema in SERVICES_WITH_SCHEMAS:
                values += list(
                    (
                        await conn.execute(
                            text(
                                f"SELECT (SELECT count(*) FROM {schema}.events),"
                                f" (SELECT count(*) FROM {schema}.inbox),"
                                f" (SELECT count(*) FROM {schema}.outbox WHERE sent_at IS NULL)"
                            )
                        )
                    ).one()
                )
        return tuple(values)

    before = await snapshot()
    if any(before[2::3]):
        return False
    lags = await consumer_lag(bootstrap)
    if any(lags.get(group) for group in SERVICES_WITH_SCHEMAS):  # the groups of the services run here
        return False
    await asyncio.sleep(0.4)
    return await snapshot() == before


async def settle(engine: AsyncEngine, bootstrap: str) -> None:
    await eventually(lambda: quiet(engine, bootstrap), timeout_s=60, interval_s=0.2)


async def assigned_list(engine: AsyncEngine, programme: str) -> tuple[int, str]:
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT worker_id, regency_code, sector FROM allocation.assignments "
                    "WHERE programme_code = :p AND status = 'assigned'"
                ),
                {"p": programme},
            )
        ).all()
    listed = [Beneficiary(r.worker_id, r.regency_code, r.sector) for r in rows]
    return len(listed), list_sha256(listed)


async def nominate_all(http: httpx.AsyncClient, workers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    answers: list[dict[str, Any]] = []
    for start in range(0, len(workers), 10):
        chunk = workers[start : start + 10]
        replies = await asyncio.gather(*(http.post("/nominations", json=w) for w in chunk))
        for reply in replies:
            assert reply.status_code == 201, reply.text
            answers.append(reply.json())
    return answers


async def push_claims(bootstrap: str, enrolled: list[tuple[Worker, str]]) -> int:
    """ClaimPaid pushes as BPJS would send them; one unknown participant, one poison, one repeat."""
    run = uuid.uuid4().hex[:6].upper()
    messages: list[tuple[Key, Envelope]] = []

    def paid(claim: str, kpj: str, nik: str, kind: str, incident: date, amount: int) -> Envelope:
        event = ClaimPaid(
            claim_id=f"CLM-{run}-{claim}",
            kpj=kpj,
            nik=nik,
            programme="JKK",
            benefit_kind=kind,
            incident_date=incident,
            paid_date=incident + timedelta(days=20),
            amount=amount,
        )
        return envelope_of(event, "bpjs", f"bpjs-claim-{event.claim_id}")

    for i, (worker, kpj) in enumerate(enrolled[:8]):
        messages.append((kpj, paid(f"OK{i}", kpj, worker.nik, "MEDICAL", date(2026, 3, 10 + i), 2_000_000)))
    stranger = compose_nik("12.17", 3, date(1980, 1, 1), "L", 9999)
    messages.append(("KPJ-NOBODY", paid("UNK", "KPJ-NOBODY", stranger, "MEDICAL", date(2026, 4, 1), 750_000)))
    worker, kpj = enrolled[0]
    messages.append((kpj, paid("BAD", kpj, worker.nik, "BONUS", date(2026, 4, 2), 1_000)))  # parked
    repeat = messages[0][1].model_copy(update={"event_id": uuid.uuid4()})
    messages.append((messages[0][0], repeat))  # the same claim delivered again
    await produce(bootstrap, topics.BPJS_CLAIMS, messages)
    return len(messages)


async def append_pilot_event(engine: AsyncEngine, definition: ServiceDefinition) -> str:
    """A WorkerNominated in schema version 1 (the 2024 pilot: `sawit` flag), appended as the pilot
    did: chained, queued in the outbox, projected in the same transaction."""
    store = eventstore_tables(MetaData(), "registry")
    nik = compose_nik("12.05", 7, date(1979, 2, 3), "L", 8888)
    nomination_id = str(uuid.uuid4())
    worker_id = worker_id_for(nik, get_settings().nik_pepper)
    envelope = Envelope(
        event_type="WorkerNominated",
        schema_version=1,
        occurred_at=utcnow(),
        aggregate_id=f"worker-{worker_id}",
        aggregate_version=1,
        correlation_id=uuid.uuid4(),
        producer="registry",
        payload={
            "worker_id": worker_id,
            "nomination_id": nomination_id,
            "programme_code": "SUMUT-2024",
            "nik": nik,
            "full_name": "Pekerja Rintisan",
            "birth_date": "1979-02-03",
            "sex": "L",
            "occupation": "petani",
            "regency_code": "12.05",
            "kecamatan": "Stabat",
            "desa": "Desa Rintisan",
            "sawit": True,
            "funder": "APBD_PROVINSI",
            "channel": "upload",
            "submitted_by": "pilot-2024",
        },
    )
    prev = "0" * 64
    async with engine.begin() as conn:
        await conn.execute(
            insert(store.events),
            {
                "event_id": envelope.event_id,
                "aggregate_id": envelope.aggregate_id,
                "aggregate_version": 1,
                "event_type": envelope.event_type,
                "schema_version": 1,
                "occurred_at": envelope.occurred_at,
                "correlation_id": envelope.correlation_id,
                "causation_id": None,
                "producer": "registry",
                "payload": envelope.payload,
                "prev_hash": prev,
                "hash": chain_hash(prev, envelope),
            },
        )
        await conn.execute(insert(store.outbox), outbox_row(envelope, topics.REGISTRY, worker_id))
        await definition.projector(conn, envelope)
    return nomination_id


@pytest.fixture(scope="package")
async def audit_run(infra: Infra) -> AsyncIterator[AuditRun]:
    # Replay from Kafka reads what Apache Kafka stored (LINDUNG_TEST_BROKER=tansu: Tansu's memory).
    own = started_broker("kafka")
    # The JVM starts (the slowest step of all) while the database is made and migrated.
    starting = asyncio.ensure_future(asyncio.to_thread(own.__enter__))
    name = f"lindung_audit_{uuid.uuid4().hex[:8]}"
    saved_env = dict(os.environ)
    try:
        url = await create_database(infra.server_url, name)
        await asyncio.to_thread(upgrade_all, url)
        broker = await starting
        await ensure_topics(broker.bootstrap, topics.all_topic_names(), partitions=4)
        use_env(url, broker.bootstrap, LINDUNG_BPJS_AGE_MAX=str(BPJS_AGE_MAX))
        defs = definitions()
        engine = make_engine(url)
        try:
            run = await _run(url, broker.bootstrap, engine, defs)
            yield run
            for label, (events, rate) in sorted(run.rates.items()):
                print(f"replay {label}: {events} events at {rate:,.0f} events/s")
        finally:
            await engine.dispose()
            await drop_database(infra.server_url, name)
    finally:
        with contextlib.suppress(Exception):
            await starting  # stopped only once started (or failed): never halfway through its start
        own.__exit__(None, None, None)
        os.environ.clear()
        os.environ.update(saved_env)  # later packages must not inherit this run's settings
        get_settings.cache_clear()


async def _run(url: str, bootstrap: str, engine: AsyncEngine, defs: dict[str, ServiceDefinition]) -> AuditRun:
    rng = random.Random(2026)
    async with AsyncExitStack() as stack:
        http: dict[str, httpx.AsyncClient] = {}
        for name, definition in defs.items():
            app = create_app(definition)
            await stack.enter_async_context(app.router.lifespan_context(app))
            await eventually(_joined(app.state.runtime), timeout_s=30)
            http[name] = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{name}")
            )
        yaml = {"content-type": "application/yaml"}
        for body in (demo_programme_path().read_text(), SMALL_YAML):
            reply = await http["allocation"].post("/programmes", content=body, headers=yaml)
            assert reply.status_code == 201, reply.text
        await eventually(lambda: _count(engine, "SELECT count(*) = 2 FROM registry.programmes"))
        workers = make_workers(rng, 1, 200, DEMO) + make_workers(rng, 1001, 30, SMALL)
        later = make_workers(rng, 2001, 80, DEMO)
        extract = "nik,desil\n" + "".join(f"{w.nik},{w.decile}\n" for w in workers + later)
        reply = await http["registry"].post("/reference/p3ke", content=extract.encode())
        assert reply.status_code == 201, reply.text

        await nominate_all(http["registry"], [w.nomination() for w in workers])
        await settle(engine, bootstrap)
        t1 = datetime.now(UTC)
        lists = {p: await assigned_list(engine, p) for p in (DEMO, SMALL)}
        by_t1 = int(await _count(engine, "SELECT count(*) FROM registry.nominations"))
        await asyncio.sleep(0.05)

        decrees = [await _decree(http["allocation"], p, 1) for p in (DEMO, SMALL)]
        enrolled = await _enrolled(engine, workers)
        claims_sent = await push_claims(bootstrap, enrolled)
        repeats = [w.nomination() for w in workers[:5]]  # rejected as duplicates
        await nominate_all(http["registry"], [w.nomination() for w in later] + repeats)
        legacy = await append_pilot_event(engine, defs["registry"])
        await settle(engine, bootstrap)
        decrees.append(await _decree(http["allocation"], DEMO, 2))  # an SK perubahan
        await settle(engine, bootstrap)
        statuses = await _statuses(engine)
    return AuditRun(
        url,
        bootstrap,
        engine,
        defs,
        workers + later,
        t1,
        lists,
        by_t1,
        claims_sent,
        legacy,
        statuses,
        decrees=sum(decrees),
    )


async def _decree(http: httpx.AsyncClient, programme: str, version: int) -> int:
    """Sign a decree through allocation's API where this build has one (1 issued, 0 not)."""
    body = {"number": f"188.44/{version}/KPTS/2026", "date": "2026-02-0" + str(version), "signer": "Gubernur"}
    reply = await http.post(f"/programmes/{programme}/decrees", json=body)
    if reply.status_code in (404, 405) and "PROGRAMME" not in reply.text:
        return 0  # no decree route in this build
    assert reply.status_code == 201, reply.text
    return 1


def _joined(rt: Any) -> Any:
    async def check() -> bool:
        return rt.broker is None or rt.assigned_partitions() > 0

    return check


async def _count(engine: AsyncEngine, sql: str) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(text(sql))).scalar_one()


async def _enrolled(engine: AsyncEngine, workers: list[Worker]) -> list[tuple[Worker, str]]:
    by_id = {w.worker_id: w for w in workers}
    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT worker_id, kpj FROM enrollment.registrations"
                    " WHERE status = 'enrolled' ORDER BY kpj"
                )
            )
        ).all()
    return [(by_id[r.worker_id], r.kpj) for r in rows if r.worker_id in by_id]


async def _statuses(engine: AsyncEngine) -> dict[str, int]:
    queries = {
        "nominations_validated": "SELECT count(*) FROM registry.nominations WHERE status = 'validated'",
        "nominations_rejected": "SELECT count(*) FROM registry.nominations WHERE status = 'rejected'",
        "assigned": "SELECT count(*) FROM allocation.assignments WHERE status = 'assigned'",
        "waitlisted": "SELECT count(*) FROM allocation.assignments WHERE status = 'waitlisted'",
        "released": "SELECT count(*) FROM allocation.assignments WHERE status = 'released'",
        "promoted": "SELECT count(*) FROM allocation.events WHERE payload->>'promoted' = 'true'",
        "enrolled": "SELECT count(*) FROM enrollment.registrations WHERE status = 'enrolled'",
        "failed": "SELECT count(*) FROM enrollment.registrations WHERE status = 'failed'",
        "claims": "SELECT count(*) FROM claims.claims",
        "claims_parked": "SELECT count(*) FROM claims.inbox WHERE outcome = 'parked'",
        "participants": "SELECT count(*) FROM registry.participants",
    }
    async with engine.connect() as conn:
        return {k: int((await conn.execute(text(q))).scalar_one()) for k, q in queries.items()}
