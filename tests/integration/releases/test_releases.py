"""Issue 13, items 1, 6 and 7 through the real path: a release ends coverage and billing, BPU
arrears end a membership, a continuing participant keeps their KPJ.

The tests run in order on one stack and one business clock: 2025 (continuing participant), then
January to August 2026 (a death and its promotion, a release before BPJS answered, arrears).
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import Table, delete, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope, topics
from libs.eventstore.store import row_to_envelope
from services.enrollment.adapters.projections import project
from services.enrollment.adapters.tables import (
    bill_workers,
    bills,
    coverage_facts,
    deregistrations,
    registrations,
)
from tests.integration.enrollment.support import produce
from tests.integration.releases.conftest import (
    Person,
    Stack,
    bill,
    coverage,
    define_programme,
    expect,
    import_p3ke,
    nominate,
    people,
    registration,
    sweep,
    wait_status,
)
from tests.running import eventually, read_matching

pytestmark = pytest.mark.integration

PEOPLE = people(["gading", "ayu", "butet", "charles", "erna", "fajar", "horas"])
PREMIUM = 16_800


async def on_topic(stack: Stack, topic: str, event_type: str, worker_id: str, expected: int = 1) -> list[Any]:
    """Payloads of `event_type` about `worker_id` on `topic`, read as any consumer would."""

    def keep(record: Any) -> bool:
        envelope = Envelope.from_bytes(record.value)
        return envelope.event_type == event_type and envelope.payload.get("worker_id") == worker_id

    records = await read_matching(stack.bootstrap, topic, keep, expected, timeout_s=30)
    return [Envelope.from_bytes(r.value).payload for r in records]


async def released_envelope(stack: Stack, person: Person) -> Envelope:
    """Allocation's QuotaReleased about `person`, as published."""

    def keep(record: Any) -> bool:
        envelope = Envelope.from_bytes(record.value)
        return (
            envelope.event_type == "QuotaReleased" and envelope.payload.get("worker_id") == person.worker_id
        )

    (record,) = await read_matching(stack.bootstrap, topics.ALLOCATION, keep, 1, timeout_s=30)
    return Envelope.from_bytes(record.value)


async def stream_types(stack: Stack, person: Person, programme: str) -> list[str]:
    rows = await stack.rows(
        "SELECT event_type FROM enrollment.events WHERE aggregate_id = :a ORDER BY aggregate_version",
        a=f"registration-{person.worker_id}:{programme}",
    )
    return [r.event_type for r in rows]


async def stream_payloads(stack: Stack, person: Person, programme: str, event_type: str) -> list[Any]:
    rows = await stack.rows(
        "SELECT payload FROM enrollment.events WHERE aggregate_id = :a AND event_type = :t"
        " ORDER BY aggregate_version",
        a=f"registration-{person.worker_id}:{programme}",
        t=event_type,
    )
    return [r.payload for r in rows]


async def month_workers(stack: Stack, programme: str, month: str) -> set[str]:
    rows = await stack.rows(
        "SELECT w.worker_id FROM enrollment.bill_workers w JOIN enrollment.bills b USING (bill_id)"
        " WHERE w.programme_code = :p AND w.month = :m AND b.status <> 'failed'",
        p=programme,
        m=month,
    )
    return {r.worker_id for r in rows}


async def test_a_worker_covered_in_2024_and_2025_keeps_one_kpj(stack: Stack) -> None:
    await import_p3ke(stack, list(PEOPLE.values()))
    gading = PEOPLE["gading"]
    first, second = f"KEEP-{stack.run}-2025", f"KEEP-{stack.run}-2026"
    await define_programme(stack, first, 2025, seats=1)
    await nominate(stack, gading, first)
    earlier = await wait_status(stack, gading, first, "enrolled")
    assert earlier["continuing"] is False
    january = await bill(stack, first, "2025-01")
    assert january["totals"]["workers"] == 1

    stack.set_day_iso("2026-01-05")
    await define_programme(stack, second, 2026, seats=1)
    await nominate(stack, gading, second)
    later = await wait_status(stack, gading, second, "enrolled", "failed")
    assert later["status"] == "enrolled", later
    assert later["kpj"] == earlier["kpj"] and later["continuing"] is True
    # Enrollment told BPJS the KPJ the worker holds; BPJS continued it under the new payer.
    asked = [
        p
        for p in await on_topic(stack, topics.BPJS_REQUESTS, "RegistrationRequested", gading.worker_id, 2)
        if p["programme_code"] == second
    ]
    assert asked and asked[0]["kpj"] == earlier["kpj"]
    enrolled = await stream_payloads(stack, gading, second, "EnrolledAtBPJS")
    assert [(e["kpj"], e["continuing"]) for e in enrolled] == [(earlier["kpj"], True)]
    assert "KpjConflictDetected" not in await stream_types(stack, gading, second)


async def test_a_worker_who_died_is_not_billed_beside_the_one_promoted_into_his_seat(stack: Stack) -> None:
    code = f"DEATH-{stack.run}-2026"
    trio = [PEOPLE["ayu"], PEOPLE["butet"], PEOPLE["charles"]]
    stack.set_day_iso("2026-01-05")
    await define_programme(stack, code, 2026, seats=2)
    nominations = {p.key: await nominate(stack, p, code) for p in trio}

    async def two_enrolled() -> list[Person] | None:
        found = [p for p in trio if (r := await registration(stack, p, code)) and r["status"] == "enrolled"]
        return found if len(found) == 2 else None

    seated = await eventually(two_enrolled, timeout_s=60, interval_s=0.2)
    dead, staying = seated
    (waiting,) = [p for p in trio if p not in seated]
    assert await registration(stack, waiting, code) is None  # waitlisted: never asked of BPJS

    january = await bill(stack, code, "2026-01")
    assert (january["totals"]["workers"], january["totals"]["total"]) == (2, 2 * PREMIUM)
    stack.set_day_iso("2026-03-02")
    for month in ("2026-02", "2026-03"):  # paid ahead of the month
        assert (await bill(stack, code, month))["totals"]["workers"] == 2

    # 10 March: the officer withdraws him, he died. Allocation releases his seat and promotes.
    stack.set_day_iso("2026-03-10")
    await expect(
        await stack.call(
            "registry",
            "POST",
            f"/nominations/{nominations[dead.key]}/withdrawal",
            json={"reason": "died", "note": "meninggal 9 Maret"},
        ),
        201,
    )
    ended = await wait_status(stack, dead, code, "ended")
    assert (ended["ended_on"], ended["end_reason"], ended["last_month_billable"]) == (
        "2026-03-10",
        "died",
        "2026-03",
    )
    assert ended["standing"] == "ended"
    promoted = await wait_status(stack, waiting, code, "enrolled")
    assert promoted["enrolled_on"] == "2026-03-10"

    # March was paid for his seat already: a bill listing the promoted worker beside the two is
    # refused with a reason; the promoted worker is billed from April.
    refused = await stack.call(
        "enrollment", "POST", "/premiums/bills", json={"programme_code": code, "month": "2026-03"}
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"]["code"] == "BILL_EXCEEDS_SEATS"
    assert "2 kursi" in refused.json()["detail"]["message"]
    assert await month_workers(stack, code, "2026-03") == {dead.worker_id, staying.worker_id}

    # April: exactly the two seats, Rp33,600; the dead worker never again.
    stack.set_day_iso("2026-04-01")
    elsewhere = await expect(
        await stack.call(
            "enrollment",
            "POST",
            "/premiums/bills",
            json={"programme_code": code, "month": "2026-04", "regency_code": "12.71"},
        ),
        201,
    )
    assert elsewhere["created"] == []  # a regency billed alone: nobody of this programme there
    april = await bill(stack, code, "2026-04")
    assert (april["totals"]["workers"], april["totals"]["total"]) == (2, 33_600)
    assert await month_workers(stack, code, "2026-04") == {staying.worker_id, waiting.worker_id}
    # March, his predecessor's seat-month, is no arrears of his.
    assert (await registration(stack, waiting, code) or {})["standing"] == "covered"
    again = await bill(stack, code, "2026-04")
    assert again["created"] == [] and again["totals"]["workers"] == 2

    # What every consumer of the enrollment topic and BPJS see.
    (end,) = await on_topic(stack, topics.ENROLLMENT, "CoverageEnded", dead.worker_id)
    assert (end["reason"], end["ended_on"], end["last_month_billable"]) == ("died", "2026-03-10", "2026-03")
    assert end["kpj"] == ended["kpj"]
    (stop,) = await on_topic(stack, topics.BPJS_REQUESTS, "DeregistrationRequested", dead.worker_id)
    assert (stop["kpj"], stop["last_covered_day"], stop["reason"], stop["attempt"]) == (
        ended["kpj"],
        "2026-03-10",
        "died",
        1,
    )
    (confirmed,) = await on_topic(stack, topics.BPJS_RESULTS, "DeregistrationConfirmed", dead.worker_id)
    assert (confirmed["request_id"], confirmed["effective_on"]) == (stop["request_id"], "2026-03-10")

    async def recorded() -> list[Any] | None:
        rows = await stack.rows(
            "SELECT status, effective_on FROM enrollment.deregistrations WHERE worker_id = :w",
            w=dead.worker_id,
        )
        return rows if rows and rows[0].status == "confirmed" else None

    (row,) = await eventually(recorded, timeout_s=30)
    assert row.effective_on.isoformat() == "2026-03-10"

    # Coverage: covered on the 9th (March paid), ended after the 10th, with the reason.
    assert (await coverage(stack, dead, "2026-03-09"))["covered"] is True
    after = await coverage(stack, dead, "2026-04-02")
    assert (after["covered"], after["reason"], after["end_reason"], after["ended_on"]) == (
        False,
        "COVERAGE_ENDED",
        "died",
        "2026-03-10",
    )
    assert after["proof"][-1]["event_type"] == "CoverageEnded"

    # Allocation's release delivered again (replayed under a new id): nothing more happens.
    released = await released_envelope(stack, dead)
    assert released.payload["reason"] == "died"
    replayed = released.model_copy(update={"event_id": uuid.uuid4()})
    await produce(stack.bootstrap, [(dead.worker_id, replayed)])

    async def consumed() -> bool:
        rows = await stack.rows("SELECT 1 FROM enrollment.inbox WHERE event_id = :e", e=replayed.event_id)
        return bool(rows)

    await eventually(consumed, timeout_s=30)
    types = await stream_types(stack, dead, code)
    assert types.count("CoverageEnded") == 1 and types.count("DeregistrationRequested") == 1


async def test_a_release_before_bpjs_answered_cancels_and_a_late_acceptance_is_stopped(stack: Stack) -> None:
    code = f"CANCEL-{stack.run}-2026"
    erna = PEOPLE["erna"]
    stack.set_day_iso("2026-04-01")
    await define_programme(stack, code, 2026, seats=1)
    down = await expect(
        await stack.call("bpjs_simulator", "POST", "/control/outage", params={"seconds": 12}), 200
    )
    assert down["outage"] is True
    nomination = await nominate(stack, erna, code)
    await wait_status(stack, erna, code, "requested")
    await expect(
        await stack.call(
            "registry", "POST", f"/nominations/{nomination}/withdrawal", json={"reason": "declined"}
        ),
        201,
    )
    cancelled = await wait_status(stack, erna, code, "cancelled", "enrolled", "ended")
    assert cancelled["status"] == "cancelled", "the release must reach enrollment within the outage"
    assert (cancelled["end_reason"], cancelled["last_month_billable"], cancelled["kpj"]) == (
        "withdrawn",
        None,
        None,
    )

    # BPJS comes back and registers her from the attempts it finds: enrollment enrolls nobody
    # and stops the KPJ BPJS issued.
    (stop,) = await on_topic(stack, topics.BPJS_REQUESTS, "DeregistrationRequested", erna.worker_id)
    assert (stop["reason"], stop["last_covered_day"]) == ("withdrawn", "2026-04-01")
    types = await stream_types(stack, erna, code)
    assert "EnrolledAtBPJS" not in types and types.count("CoverageEnded") == 1
    after_release = types[types.index("CoverageEnded") :]
    assert not {"RegistrationRequested", "RegistrationRetryScheduled"} & set(after_release), types

    async def answered() -> list[Any] | None:
        rows = await stack.rows(
            "SELECT status FROM enrollment.deregistrations WHERE worker_id = :w", w=erna.worker_id
        )
        return rows if rows and rows[0].status != "requested" else None

    assert [r.status for r in await eventually(answered, timeout_s=30)] == ["confirmed"]
    assert (await registration(stack, erna, code) or {})["status"] == "cancelled"
    nothing = await expect(
        await stack.call(
            "enrollment", "POST", "/premiums/bills", json={"programme_code": code, "month": "2026-04"}
        ),
        201,
    )
    assert nothing["created"] == [] and nothing["totals"]["workers"] == 0


async def test_arrears_restore_coverage_and_a_fourth_unpaid_month_ends_the_membership(stack: Stack) -> None:
    lapsing, paying = f"BPU-{stack.run}-2026", f"ARR-{stack.run}-2026"
    fajar, horas = PEOPLE["fajar"], PEOPLE["horas"]
    stack.set_day_iso("2026-04-01")
    for code, person in ((lapsing, fajar), (paying, horas)):
        await define_programme(stack, code, 2026, seats=1)
        await nominate(stack, person, code)
        await wait_status(stack, person, code, "enrolled")
        assert (await bill(stack, code, "2026-04"))["totals"]["workers"] == 1
    assert (await registration(stack, fajar, lapsing) or {})["standing"] == "covered"

    # May is not due in April: no lapse, nothing in arrears.
    await sweep(stack)
    assert "CoverageLapsed" not in await stream_types(stack, fajar, lapsing)

    # 1 July: May, June and July unpaid — three months of arrears: lapsed, not ended.
    stack.set_day_iso("2026-07-01")
    await sweep(stack)
    assert (await registration(stack, fajar, lapsing) or {})["standing"] == "lapsed"
    listed = await expect(
        await stack.call("enrollment", "GET", "/enrollments", params={"programme": lapsing}), 200
    )
    assert [(r["worker_id"], r["status"], r["standing"]) for r in listed["items"]] == [
        (fajar.worker_id, "enrolled", "lapsed")
    ]
    assert "MembershipEnded" not in await stream_types(stack, fajar, lapsing)
    for month in ("2026-05", "2026-06", "2026-07"):  # the arrears paid for Horas
        await bill(stack, paying, month)
    restored = await stream_payloads(stack, horas, paying, "CoverageRestored")
    assert [r["month_paid"] for r in restored] == ["2026-05"]
    assert (await registration(stack, horas, paying) or {})["standing"] == "covered"

    # 1 August: a fourth month unpaid ends Fajar's membership; Horas, paid up, goes on.
    stack.set_day_iso("2026-08-01")
    await bill(stack, paying, "2026-08")
    await sweep(stack)
    ended = await wait_status(stack, fajar, lapsing, "membership_ended")
    assert (ended["standing"], ended["ended_on"], ended["last_month_billable"]) == (
        "membership_ended",
        "2026-04-30",
        "2026-04",
    )
    (membership,) = await stream_payloads(stack, fajar, lapsing, "MembershipEnded")
    assert membership["months_unpaid"] == ["2026-05", "2026-06", "2026-07", "2026-08"]
    assert membership["arrears_months_allowed"] == 3
    (end,) = await on_topic(stack, topics.ENROLLMENT, "CoverageEnded", fajar.worker_id)
    assert end["reason"] == "membership_ended"
    (stop,) = await on_topic(stack, topics.BPJS_REQUESTS, "DeregistrationRequested", fajar.worker_id)
    assert (stop["reason"], stop["last_covered_day"]) == ("membership_ended", "2026-04-30")
    assert (await registration(stack, horas, paying) or {})["status"] == "enrolled"
    assert "MembershipEnded" not in await stream_types(stack, horas, paying)

    # Not billed again under this programme; coverage says why.
    august = await expect(
        await stack.call(
            "enrollment", "POST", "/premiums/bills", json={"programme_code": lapsing, "month": "2026-08"}
        ),
        201,
    )
    assert august["created"] == [] and fajar.worker_id not in await month_workers(stack, lapsing, "2026-08")
    assert (await coverage(stack, fajar, "2026-04-15"))["covered"] is True
    answer = await coverage(stack, fajar, "2026-08-02")
    assert (answer["covered"], answer["reason"], answer["end_reason"]) == (
        False,
        "MEMBERSHIP_ENDED",
        "membership_ended",
    )


async def test_the_read_models_rebuilt_from_enrollments_events_equal_the_live_ones(stack: Stack) -> None:
    """Ends, cancellations and stop-payments are projected from enrollment's own events: replaying
    its log through `project` one event at a time gives the same rows (checked, rolled back).
    Stop-payments' answers come from consumed events, so only what enrollment sent is compared."""
    d = deregistrations
    tables: dict[Table, tuple[Any, ...]] = {
        registrations: (registrations.c.worker_id, registrations.c.programme_code),
        coverage_facts: (coverage_facts.c.event_id, coverage_facts.c.worker_id),
        bills: (bills.c.bill_id,),
        bill_workers: (bill_workers.c.bill_id, bill_workers.c.worker_id),
        d: (d.c.worker_id, d.c.programme_code),
    }
    sent = {"worker_id", "programme_code", "request_id", "kpj", "reason", "last_covered_day", "attempts"}

    async def snapshot(conn: AsyncConnection) -> dict[str, list[Any]]:
        found: dict[str, list[Any]] = {}
        for table, order in tables.items():
            columns = [c for c in table.c if c.name != "id" and (table is not d or c.name in sent)]
            found[table.name] = list((await conn.execute(select(*columns).order_by(*order))).all())
        return found

    enrollment = stack.runtimes["enrollment"]
    async with enrollment.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="REPEATABLE READ")
        async with conn.begin() as transaction:
            # The live service keeps writing (clock, consumers): it waits for this rolled-back
            # rebuild instead of deadlocking with its deletes (seen once under two test workers).
            names = ", ".join(f"{t.schema}.{t.name}" if t.schema else t.name for t in tables)
            await conn.execute(text(f"LOCK TABLE {names} IN ACCESS EXCLUSIVE MODE"))
            live = await snapshot(conn)
            assert {r.status for r in live["registrations"]} >= {
                "enrolled",
                "ended",
                "cancelled",
                "membership_ended",
            }
            for table in tables:
                await conn.execute(delete(table))
            events = enrollment.store.tables.events
            for row in await conn.execute(select(events).order_by(events.c.position)):
                await project(conn, row_to_envelope(row))
            rebuilt = await snapshot(conn)
            await transaction.rollback()
    assert rebuilt == live
