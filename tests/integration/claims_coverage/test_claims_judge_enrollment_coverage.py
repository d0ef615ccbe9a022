"""The seam enrollment → claims, through the real path: workers enrolled by enrollment (from the
allocation event it consumes) with the BPJS simulator answering, months billed through
enrollment's HTTP API and paid by the simulator, a lapse recorded and arrears paid, then claims
pushed as BPJS does (the simulator's `POST /control/claims` → lindung.bpjs.claims.v1) and their
flags read from claims' HTTP API; each compared with enrollment's own `GET /coverage` answer.
"""

from __future__ import annotations

import random
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from libs.audit.replay import replay
from libs.events.contracts.allocation import QuotaReleased
from libs.events.contracts.common import Funder
from tests.integration.claims_coverage.conftest import Stack
from tests.integration.enrollment.support import (
    Programme,
    Worker,
    all_events,
    assigned,
    define,
    envelope,
    good_workers,
    produce,
)
from tests.running import eventually

pytestmark = pytest.mark.integration

START, END = date(2025, 1, 1), date(2025, 12, 31)
COVERAGE_FACTS = {"EnrolledAtBPJS", "PremiumPaid", "CoverageLapsed", "CoverageRestored", "CoverageEnded"}


async def kpj_of(stack: Stack, w: Worker) -> str:
    """The KPJ BPJS gave the worker, once enrollment has it."""
    found: dict[str, str] = {}

    async def enrolled() -> bool:
        answer = await stack.enrollment_http.get(f"/enrollments/{w.worker_id}")
        regs = answer.json() if answer.status_code == 200 else []  # 404 until the request is in
        done = [r for r in regs if r["status"] == "enrolled" and r["kpj"]]
        if done:
            found["kpj"] = done[0]["kpj"]
        return bool(done)

    await eventually(enrolled, timeout_s=60, interval_s=0.2)
    return found["kpj"]


async def bill_and_settle(stack: Stack, programme: Programme, month: str) -> None:
    answer = await stack.enrollment_http.post(
        "/premiums/bills", json={"programme_code": programme.code, "month": month}
    )
    assert answer.status_code == 201 and answer.json()["created"], answer.text

    async def settled() -> bool:
        bills = (
            await stack.enrollment_http.get(
                "/premiums/bills", params={"programme": programme.code, "month": month}
            )
        ).json()
        return bool(bills["settled"]) and bills["bills"]["failed"] == 0

    await eventually(settled, timeout_s=60, interval_s=0.2)


async def claims_hold_every_coverage_fact(stack: Stack) -> None:
    """Claims arrive on another topic than enrollment's facts: wait until claims consumed them all."""
    facts = {e.event_id for e in await all_events(stack.enrollment) if e.event_type in COVERAGE_FACTS}
    inbox = stack.claims.definition.tables.inbox

    async def consumed() -> bool:
        async with stack.claims.engine.connect() as conn:
            seen = set(
                (await conn.execute(select(inbox.c.event_id).where(inbox.c.event_id.in_(facts)))).scalars()
            )
        return seen == facts

    await eventually(consumed, timeout_s=60, interval_s=0.2)


async def push_claim(stack: Stack, claim_id: str, kpj: str, programme: str, kind: str, **days: date) -> None:
    body = {
        "claim_id": claim_id,
        "kpj": kpj,
        "programme": programme,
        "benefit_kind": kind,
        "amount": 1_000_000,
        **{k: v.isoformat() for k, v in days.items()},
    }
    answer = await stack.simulator_http.post("/control/claims", json=body)
    assert answer.status_code == 202, answer.text


async def claim(stack: Stack, claim_id: str) -> dict[str, Any]:
    found: dict[str, Any] = {}

    async def recorded() -> bool:
        answer = await stack.claims_http.get(f"/claims/{claim_id}")
        if answer.status_code == 200:
            found.update(answer.json())
        return answer.status_code == 200

    await eventually(recorded, timeout_s=60, interval_s=0.2)
    return found


async def enrollment_says(stack: Stack, w: Worker, day: date) -> dict[str, Any]:
    answer = await stack.enrollment_http.post("/coverage", json={"nik": w.nik, "on": day.isoformat()})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def test_claims_flag_coverage_from_enrollments_facts(stack: Stack) -> None:
    run = f"{random.randrange(16**6):06X}"
    a_prog = Programme(f"CLC-{run}-A", Funder.APBD_KABUPATEN, START, END)
    b_prog = Programme(f"CLC-{run}-B", Funder.APBD_KABUPATEN, START, END)
    c_prog = Programme(f"CLC-{run}-C", Funder.APBD_KABUPATEN, START, END)
    a, b, c = good_workers(random.Random(run), stack.pepper, stack.behaviour, "12.12", 3, START)

    # Enrolled on 10 January, inside a programme that began on the 1st.
    stack.set_day(date(2025, 1, 10))
    await define(stack.bootstrap, a_prog, b_prog, c_prog)
    seats = ((a, a_prog), (b, b_prog), (c, c_prog))
    await produce(
        stack.bootstrap,
        [(w.worker_id, envelope(assigned(w, p, requires_decree=False), f"quota-{p.code}")) for w, p in seats],
    )
    kpj_a, kpj_b, kpj_c = await kpj_of(stack, a), await kpj_of(stack, b), await kpj_of(stack, c)
    for programme in (a_prog, b_prog, c_prog):
        for month in ("2025-01", "2025-02"):
            await bill_and_settle(stack, programme, month)

    # C dies on 12 February: allocation releases the seat, enrollment ends C's coverage that day.
    stack.set_day(date(2025, 2, 12))
    died = QuotaReleased(
        worker_id=c.worker_id,
        programme_code=c_prog.code,
        regency_code=c.regency,
        sector="non_sawit",
        reason="died",
    )
    await produce(stack.bootstrap, [(c.worker_id, envelope(died, f"quota-{c_prog.code}", version=2))])

    async def ended() -> bool:
        return any(e.event_type == "CoverageEnded" for e in await all_events(stack.enrollment))

    await eventually(ended, timeout_s=30, interval_s=0.2)

    # March unpaid: enrollment records the lapse; B's March is then paid in arrears (restored).
    stack.set_day(date(2025, 3, 5))
    swept = (await stack.enrollment_http.post("/coverage/lapses")).json()
    assert swept["recorded"] >= 2, swept
    stack.set_day(date(2025, 3, 20))
    await bill_and_settle(stack, b_prog, "2025-03")

    async def restored() -> bool:
        return any(e.event_type == "CoverageRestored" for e in await all_events(stack.enrollment))

    await eventually(restored, timeout_s=30, interval_s=0.2)
    await claims_hold_every_coverage_fact(stack)

    paid_on = date(2025, 3, 25)
    cases = {
        # claim id: (worker, KPJ, programme, kind, incident, paid, flag codes expected)
        f"C-{run}-PAID": (a, kpj_a, "JKK", "MEDICAL", date(2025, 2, 5), paid_on, []),
        f"C-{run}-EARLY": (a, kpj_a, "JKM", "DEATH", date(2025, 1, 5), paid_on, ["BEFORE_ENROLLMENT"]),
        f"C-{run}-LAPSE": (a, kpj_a, "JKK", "MEDICAL", date(2025, 3, 15), paid_on, ["IN_LAPSE"]),
        f"C-{run}-ARREARS": (b, kpj_b, "JKK", "MEDICAL", date(2025, 3, 15), paid_on, []),
        f"C-{run}-ENDED": (c, kpj_c, "JKM", "DEATH", date(2025, 2, 20), paid_on, ["COVERAGE_ENDED"]),
        f"C-{run}-LATE": (
            a,
            kpj_a,
            "JKK",
            "MEDICAL",
            date(2025, 2, 10),
            date(2027, 2, 11),
            ["JKK_CLAIM_WINDOW_PASSED"],
        ),
    }
    for claim_id, (_, kpj, insured, kind, incident, paid, _) in cases.items():
        await push_claim(stack, claim_id, kpj, insured, kind, incident_date=incident, paid_date=paid)

    for claim_id, (worker, _, _, _, incident, _, expected) in cases.items():
        found = await claim(stack, claim_id)
        assert [f["code"] for f in found["flags"]] == expected, (claim_id, found["flags"])
        assert found["programme_code"] == {a: a_prog, b: b_prog, c: c_prog}[worker].code
        # Claims and enrollment agree on the day, each in its own words.
        assert (await enrollment_says(stack, worker, incident))["covered"] == (
            not {"BEFORE_ENROLLMENT", "IN_LAPSE", "COVERAGE_ENDED"} & set(expected)
        ), claim_id

    early = (await claim(stack, f"C-{run}-EARLY"))["flags"][0]
    assert early["details"]["enrolled_on"] == "2025-01-10"
    assert early["details"]["coverage_start"] == "2025-01-01"
    assert "sebelum peserta terdaftar" in early["details"]["detail"]
    assert (await enrollment_says(stack, a, date(2025, 1, 5)))["reason"] == "BEFORE_COVERAGE_START"
    lapse = (await claim(stack, f"C-{run}-LAPSE"))["flags"][0]
    assert lapse["details"]["coverage_reason"] == "IN_LAPSE" and "2025-03" in lapse["details"]["detail"]

    flagged = (await stack.claims_http.get("/claims", params={"flagged": "true", "per_page": 500})).json()
    ended_flag = (await claim(stack, f"C-{run}-ENDED"))["flags"][0]["details"]
    assert (ended_flag["ended_on"], ended_flag["end_reason"]) == ("2025-02-12", "died")
    flagged = (await stack.claims_http.get("/claims", params={"flagged": "true", "per_page": 500})).json()
    assert {x["claim_id"] for x in flagged["items"]} == {
        f"C-{run}-{x}" for x in ("EARLY", "LAPSE", "LATE", "ENDED")
    }

    # The coverage view is a read model like any other: rebuilt from the log, it equals the live one.
    report = await replay(stack.claims.engine, stack.claims.definition)
    assert report.matches, [t for t in report.tables if not t.matches]
    rebuilt = {t.table: t.live_rows for t in report.tables}
    assert rebuilt["coverage_facts"] > 0 and rebuilt["coverage"] == 3
