"""Helpers for the enrollment integration tests: a movable business clock, workers, envelopes."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events import Envelope, decode, topics
from libs.events.contracts.allocation import AssignmentDecreed, ProgrammeDefined, QuotaAssigned, QuotaCell
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.common import Funder, WorkerIdentity
from libs.eventstore.store import row_to_envelope
from libs.identity import worker_id_for
from libs.runtime.service import Runtime
from services.bpjs_simulator.domain.insurer import InsurerBehaviour, age_on, nik_not_found
from services.enrollment.adapters.tables import registrations
from tests.running import eventually
from tests.support import kafka
from tests.support.envelopes import envelope_of

WIB = ZoneInfo("Asia/Jakarta")


class MovableClock:
    """The business calendar shared by the in-process services: real time, shifted to a chosen day."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def set_day(self, day: date, hour: int = 10) -> None:
        target = datetime.combine(day, time(hour), tzinfo=WIB)
        self.offset = target - datetime.now(UTC)

    def today(self) -> date:
        return self.now().astimezone(WIB).date()


@dataclass(frozen=True)
class Worker:
    nik: str
    worker_id: str
    name: str
    birth: date
    sex: str
    regency: str


def make_worker(rng: random.Random, pepper: str, regency: str, birth: date | None = None) -> Worker:
    sex = rng.choice("LP")
    birth = birth or date(1966, 1, 1) + timedelta(days=rng.randrange(0, 365 * 38))
    day = birth.day + (40 if sex == "P" else 0)
    nik = (
        f"{regency.replace('.', '')}{rng.randint(1, 20):02d}{day:02d}{birth.month:02d}{birth.year % 100:02d}"
    )
    nik += f"{rng.randint(1, 9999):04d}"
    return Worker(nik, worker_id_for(nik, pepper), f"Pekerja {nik[-6:]}", birth, sex, regency)


def accepted_by_bpjs(w: Worker, behaviour: InsurerBehaviour, coverage_start: date) -> bool:
    """Whether the simulator will register this worker (apart from transient, retryable refusals)."""
    age = age_on(w.birth, coverage_start)
    return not nik_not_found(w.nik, behaviour) and behaviour.age_min <= age <= behaviour.age_max


def good_workers(
    rng: random.Random, pepper: str, behaviour: InsurerBehaviour, regency: str, n: int, start: date
) -> list[Worker]:
    found: list[Worker] = []
    while len(found) < n:
        w = make_worker(rng, pepper, regency)
        if accepted_by_bpjs(w, behaviour, start):
            found.append(w)
    return found


@dataclass(frozen=True)
class Programme:
    code: str
    funder: Funder
    start: date
    end: date
    requires_decree: bool = False

    def defined(self) -> ProgrammeDefined:
        return ProgrammeDefined(
            programme_code=self.code,
            name=f"Program uji {self.code}",
            year=self.start.year,
            funder=self.funder,
            jurisdiction="12",
            premium_jkk=10_000,
            premium_jkm=6_800,
            months=12,
            coverage_start=self.start,
            coverage_end=self.end,
            budget_cap=10_000_000_000,
            allowed_deciles=[1, 2],
            age_min=15,
            age_max=65,
            occupations=["petani"],
            requires_decree=self.requires_decree,
            quotas=[QuotaCell(regency_code="12.17", sector="non_sawit", seats=1000)],
        )


def identity(w: Worker) -> WorkerIdentity:
    return WorkerIdentity(nik=w.nik, full_name=w.name, birth_date=w.birth.isoformat(), sex=w.sex)  # type: ignore[arg-type]


def assigned(w: Worker, p: Programme, requires_decree: bool | None = None) -> QuotaAssigned:
    return QuotaAssigned(
        worker_id=w.worker_id,
        nomination_id=f"nom-{w.worker_id[:8]}",
        programme_code=p.code,
        funder=p.funder,
        regency_code=w.regency,
        sector="non_sawit",
        decile=1,
        identity=identity(w),
        coverage_start=p.start,
        coverage_end=p.end,
        premium_per_month=16_800,
        requires_decree=p.requires_decree if requires_decree is None else requires_decree,
    )


def decreed(w: Worker, p: Programme) -> AssignmentDecreed:
    return AssignmentDecreed(
        worker_id=w.worker_id,
        programme_code=p.code,
        decree_number=f"188.44/{p.code}/2026",
        funder=p.funder,
        regency_code=w.regency,
        sector="non_sawit",
        identity=identity(w),
        coverage_start=p.start,
        coverage_end=p.end,
        premium_per_month=16_800,
    )


def envelope(event: DomainEvent, aggregate_id: str, version: int = 1) -> Envelope:
    """`event` as allocation sends it."""
    return envelope_of(event, "allocation", aggregate_id, version=version)


async def produce(
    bootstrap: str, items: Iterable[tuple[str, Envelope]], topic: str = topics.ALLOCATION
) -> None:
    """Publish (key, envelope) items to `topic` (allocation's by default), all in flight."""
    await kafka.produce(bootstrap, topic, items, in_flight=True, linger_ms=5)


async def define(bootstrap: str, *programmes: Programme) -> list[Envelope]:
    envs = [envelope(p.defined(), f"programme-{p.code}") for p in programmes]
    await produce(bootstrap, [(p.code, e) for p, e in zip(programmes, envs, strict=True)])
    return envs


@dataclass
class Stack:
    enrollment: Runtime
    simulator: Runtime
    enrollment_http: httpx.AsyncClient
    simulator_http: httpx.AsyncClient
    clock: MovableClock
    bootstrap: str
    behaviour: InsurerBehaviour
    pepper: str
    rng: random.Random = field(default_factory=lambda: random.Random(2026))

    @property
    def engine(self) -> AsyncEngine:
        return self.enrollment.engine

    async def stream(self, aggregate_id: str) -> list[Envelope]:
        async with self.enrollment.engine.connect() as conn:
            return await self.enrollment.store.load(conn, aggregate_id)

    async def inbox_has(self, rt: Runtime, ids: set[uuid.UUID]) -> bool:
        inbox = rt.definition.tables.inbox
        async with rt.engine.connect() as conn:
            seen = set(
                (await conn.execute(select(inbox.c.event_id).where(inbox.c.event_id.in_(ids)))).scalars()
            )
        return seen == ids


async def all_events(rt: Runtime) -> list[Envelope]:
    """Every event in a service's store, in order."""
    t = rt.definition.tables.events
    async with rt.engine.connect() as conn:
        rows = (await conn.execute(select(t).order_by(t.c.position))).all()
    return [row_to_envelope(r) for r in rows]


async def wait_enrolled(stack: Stack, workers: list[Worker], programme: Programme) -> None:
    async def done() -> bool:
        async with stack.engine.connect() as conn:
            n = (
                await conn.execute(
                    select(func.count()).where(
                        registrations.c.programme_code == programme.code, registrations.c.status == "enrolled"
                    )
                )
            ).scalar_one()
        return n == len(workers)

    await eventually(done, timeout_s=60, interval_s=0.3)


async def pay_months(stack: Stack, programme: Programme, *months: str) -> None:
    for month in months:
        answer = await stack.enrollment_http.post(
            "/premiums/bills", json={"programme_code": programme.code, "month": month}
        )
        assert answer.status_code == 201, answer.text
        assert answer.json()["created"], f"nothing billed for {month}"

    async def settled() -> bool:
        for month in months:
            bill = (
                await stack.enrollment_http.get(
                    "/premiums/bills", params={"programme": programme.code, "month": month}
                )
            ).json()
            if not bill["settled"]:
                return False
            assert bill["bills"]["failed"] == 0, bill
        return True

    await eventually(settled, timeout_s=60, interval_s=0.3)


def payloads(envs: Iterable[Envelope], event_type: str) -> list[Any]:
    return [decode(e) for e in envs if e.event_type == event_type]
