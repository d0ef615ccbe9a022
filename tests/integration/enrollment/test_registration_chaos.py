"""Registration at BPJS end to end, with a simulator that repeats itself, answers out of order,
refuses transiently and goes down for ten seconds: every decreed worker ends enrolled or failed
exactly once, and no KPJ is issued twice.

Allocation's part is played by this test: it publishes QuotaAssigned (programmes without a
decree) and AssignmentDecreed (with one) on `lindung.allocation.v1`, some of them twice and
some again under a new event id, as redeliveries and replays would.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter, defaultdict
from datetime import date
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope
from libs.events.contracts.common import Funder
from libs.eventstore.store import row_to_envelope
from services.bpjs_simulator.adapters.tables import participants
from services.enrollment.adapters.projections import project
from services.enrollment.adapters.tables import bill_workers, bills, coverage_facts, registrations
from tests.integration.enrollment.support import (
    Programme,
    Stack,
    accepted_by_bpjs,
    all_events,
    assigned,
    decreed,
    envelope,
    make_worker,
    produce,
)
from tests.running import eventually

pytestmark = pytest.mark.integration

START, END = date(2026, 1, 1), date(2026, 12, 31)
REGENCIES = ("12.17", "12.10", "12.71", "12.04", "12.12")
OUTAGE_S = 10


def _again(env: Envelope) -> Envelope:
    """The same fact published again under a new event id (a replay by its producer)."""
    return env.model_copy(update={"event_id": uuid.uuid4()})


async def test_every_decreed_worker_ends_enrolled_or_failed_exactly_once(stack: Stack) -> None:
    run = stack.rng.randrange(16**6)
    stack.clock.set_day(date(2026, 1, 5))
    direct = Programme(f"CHAOS-{run:06X}-A", Funder.APBD_PROVINSI, START, END)
    by_decree = Programme(f"CHAOS-{run:06X}-B", Funder.APBD_KABUPATEN, START, END, requires_decree=True)
    second = Programme(f"CHAOS-{run:06X}-C", Funder.DBH_SAWIT, START, END)

    rng = stack.rng
    plain = [make_worker(rng, stack.pepper, REGENCIES[i % 5]) for i in range(142)]
    too_old = [make_worker(rng, stack.pepper, "12.17", birth=date(1955, 3, 1 + i)) for i in range(4)]
    too_young = [make_worker(rng, stack.pepper, "12.10", birth=date(2014, 6, 1 + i)) for i in range(4)]
    a_workers = plain[:100] + too_old + too_young  # 108 without decree
    b_workers = plain[100:142]  # 42 assigned; 37 decreed, 5 never
    b_decreed, b_waiting = b_workers[:37], b_workers[37:]
    extra = [make_worker(rng, stack.pepper, REGENCIES[i % 5]) for i in range(50)]
    a_workers += extra  # 158 in A
    # Five people of A are also assigned by another funder's programme: BPJS registers a person
    # once, so one of the two registrations is refused (ALREADY_REGISTERED).
    doubles = [w for w in plain[:100] if accepted_by_bpjs(w, stack.behaviour, START)][:5]

    first_half: list[tuple[str, Envelope]] = []
    second_half: list[tuple[str, Envelope]] = []
    for i, w in enumerate(a_workers):
        env = envelope(assigned(w, direct), f"quota-{direct.code}", i + 1)
        target = first_half if i % 2 == 0 else second_half
        target.append((w.worker_id, env))
        if i % 7 == 0:
            target.append((w.worker_id, env))  # redelivered as is
        if i % 11 == 0:
            second_half.append((w.worker_id, _again(env)))  # replayed under a new id
    for i, w in enumerate(b_workers):
        env = envelope(assigned(w, by_decree), f"quota-{by_decree.code}", i + 1)
        first_half.append((w.worker_id, env))
    for i, w in enumerate(b_decreed):
        env = envelope(decreed(w, by_decree), f"decree-{by_decree.code}", i + 1)
        second_half.append((w.worker_id, env))
        if i % 5 == 0:
            second_half.append((w.worker_id, _again(env)))  # a revised decree repeats the worker
    for i, w in enumerate(doubles):
        second_half.append((w.worker_id, envelope(assigned(w, second), f"quota-{second.code}", i + 1)))

    expected = {(w.worker_id, direct.code) for w in a_workers}
    expected |= {(w.worker_id, by_decree.code) for w in b_decreed}
    expected |= {(w.worker_id, second.code) for w in doubles}
    assert len(expected) == 200

    began = time.monotonic()
    await produce(stack.bootstrap, first_half)

    async def some_answered() -> bool:
        async with stack.engine.connect() as conn:
            done = (
                await conn.execute(
                    select(func.count()).where(
                        registrations.c.programme_code == direct.code, registrations.c.status != "requested"
                    )
                )
            ).scalar_one()
        return done >= 20

    await eventually(some_answered, timeout_s=30)
    down = await stack.simulator_http.post("/control/outage", params={"seconds": OUTAGE_S})
    assert down.status_code == 200 and down.json()["outage"] is True
    outage_start = time.time()
    await produce(stack.bootstrap, second_half)  # arrives while BPJS is down

    async def all_settled() -> list[Any] | None:
        async with stack.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(registrations).where(
                        registrations.c.programme_code.in_([direct.code, by_decree.code, second.code])
                    )
                )
            ).all()
        keys = {(r.worker_id, r.programme_code) for r in rows}
        return rows if keys == expected and all(r.status != "requested" for r in rows) else None

    rows = await eventually(all_settled, timeout_s=90, interval_s=0.5)
    took = time.monotonic() - began
    outage_end = outage_start + OUTAGE_S
    tail = time.time() - outage_end

    # Exactly one registration per worker and programme; exactly one outcome each.
    mine = {f"registration-{w}:{p}" for w, p in expected}
    events = [e for e in await all_events(stack.enrollment) if e.aggregate_id in mine]
    per_stream: dict[str, list[Envelope]] = defaultdict(list)
    for e in events:
        per_stream[e.aggregate_id].append(e)
    assert set(per_stream) == mine
    most_attempts = 0
    for stream, history in per_stream.items():
        types = [e.event_type for e in history]
        outcomes = [t for t in types if t in ("EnrolledAtBPJS", "EnrollmentFailed")]
        assert len(outcomes) == 1, (stream, types)
        attempts = [e.payload["attempt"] for e in history if e.event_type == "RegistrationRequested"]
        assert attempts == list(range(1, len(attempts) + 1)), (stream, attempts)
        most_attempts = max(most_attempts, len(attempts))
    never = {w.worker_id for w in b_waiting}
    assert not any(r.worker_id in never for r in rows)

    # No KPJ twice; every enrolled worker holds the KPJ the simulator issued to that person.
    enrolled = [r for r in rows if r.status == "enrolled"]
    kpjs = [r.kpj for r in enrolled]
    assert len(kpjs) == len(set(kpjs))
    async with stack.simulator.engine.connect() as conn:
        issued = {
            r.kpj: r.worker_id
            for r in await conn.execute(select(participants).where(participants.c.kpj.in_(kpjs)))
        }
    assert issued == {r.kpj: r.worker_id for r in enrolled}

    # Failures are exactly the workers BPJS must refuse, for the right reason.
    people = {w.worker_id: w for w in a_workers + b_decreed}
    failed = {(r.worker_id, r.programme_code): r.reason_code for r in rows if r.status == "failed"}
    for (worker_id, programme), code in failed.items():
        w = people[worker_id]
        if w in too_old or w in too_young:
            assert code == "AGE_OUT_OF_RANGE"
        elif programme == second.code or (worker_id, second.code) in failed:
            assert code == "ALREADY_REGISTERED"
        else:
            assert code == "NIK_NOT_FOUND", (w.nik, code)
    refused_people = {w.worker_id for w in people.values() if not accepted_by_bpjs(w, stack.behaviour, START)}
    assert {w for w, _ in failed if failed[(w, _)] != "ALREADY_REGISTERED"} == refused_people
    assert Counter(failed.values())["ALREADY_REGISTERED"] == len(doubles)

    # The simulator did misbehave: repeats, late answers, transient refusals, and the outage
    # made attempts time out; enrollment saw duplicates and stale answers and retried.
    async def all_sent() -> dict[str, Any] | None:
        body: dict[str, Any] = (await stack.simulator_http.get("/control")).json()
        return body if body["held"] == 0 else None  # repeats may still be waiting: they go out too

    control = await eventually(all_sent, timeout_s=20)
    assert control["repeated"] > 0 and control["late"] > 0 and not control["outage"]
    reasons = Counter(
        e.payload["reason_code"] for e in events if e.event_type == "RegistrationRetryScheduled"
    )
    assert reasons["TIMEOUT"] > 0 and reasons["DUKCAPIL_UNAVAILABLE"] > 0
    answers = (await stack.enrollment_http.get("/enrollments/stats")).json()["answers"]
    assert answers.get("registration:DUPLICATE", 0) > 0
    assert answers.get("clock:registrations:retry", 0) > 0

    # During the outage the simulator neither consumed nor answered; afterwards it did both.
    sim = stack.simulator.definition.tables
    async with stack.simulator.engine.connect() as conn:
        consumed = [r[0].timestamp() for r in await conn.execute(select(sim.inbox.c.consumed_at))]
        answered = [r[0].timestamp() for r in await conn.execute(select(sim.events.c.recorded_at))]
    quiet_from, quiet_to = outage_start + 1.0, outage_end - 0.3
    assert not [t for t in consumed if quiet_from < t < quiet_to]
    assert not [t for t in answered if quiet_from < t < quiet_to]
    assert [t for t in consumed if t >= outage_end - 0.3] and [t for t in answered if t >= outage_end - 0.3]

    # No message was dead-lettered on either side.
    for rt in (stack.enrollment, stack.simulator):
        async with rt.engine.connect() as conn:
            dead = rt.definition.tables.dead_letters
            assert (await conn.execute(select(func.count()).select_from(dead))).scalar_one() == 0

    print(
        f"\n200 registrations through a {OUTAGE_S} s outage in {took:.1f} s, "
        f"settled {tail:.1f} s after it ended "
        f"({len(enrolled)} enrolled, {len(failed)} failed, at most {most_attempts} attempts); "
        f"retries {dict(reasons)}; answers {answers}"
    )


async def test_the_read_models_rebuilt_event_by_event_equal_the_batch_projected_ones(stack: Stack) -> None:
    """Consumer batches project in bulk (project_batch); replaying enrollment's log through
    `project` one event at a time must give the same rows (checked, then rolled back)."""
    tables = {
        registrations: (registrations.c.worker_id, registrations.c.programme_code),
        bills: (bills.c.bill_id,),
        bill_workers: (bill_workers.c.bill_id, bill_workers.c.worker_id),
        coverage_facts: (coverage_facts.c.event_id, coverage_facts.c.worker_id),
    }

    async def snapshot(conn: AsyncConnection) -> dict[str, list[Any]]:
        found: dict[str, list[Any]] = {}
        for table, order in tables.items():
            columns = [c for c in table.c if c.name != "id"]  # coverage_facts' serial differs
            found[table.name] = (await conn.execute(select(*columns).order_by(*order))).all()
        return found

    async with stack.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin() as transaction:
            live = await snapshot(conn)
            assert len(live["registrations"]) >= 150
            assert sum(1 for r in live["coverage_facts"] if r.kind == "enrolled") >= 100
            for table in tables:
                await conn.execute(delete(table))
            events = stack.enrollment.store.tables.events
            for row in await conn.execute(select(events).order_by(events.c.position)):
                await project(conn, row_to_envelope(row))
            rebuilt = await snapshot(conn)
            await transaction.rollback()
    assert rebuilt == live
