"""Coverage on a day through HTTP, around the start, the end and a lapse, with the events that prove
each answer: enrollment day, months paid (PremiumPaid), a month unpaid (CoverageLapsed), arrears
paid later (CoverageRestored), and the knowledge-time view an incident day needs."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from libs.events.contracts.common import Funder
from libs.eventstore.store import row_to_envelope
from tests.integration.enrollment.support import (
    Programme,
    Stack,
    Worker,
    assigned,
    define,
    envelope,
    good_workers,
    pay_months,
    produce,
    wait_enrolled,
)

pytestmark = pytest.mark.integration

START, END = date(2025, 1, 1), date(2025, 12, 31)


async def coverage(stack: Stack, w: Worker, on: str, **params: str) -> dict[str, Any]:
    answer = await stack.enrollment_http.post("/coverage", json={"nik": w.nik, "on": on, **params})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def kinds(body: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [(p["event_type"], p.get("month")) for p in body["proof"]]


async def test_coverage_on_a_day_around_start_end_and_lapse(stack: Stack) -> None:
    run = stack.rng.randrange(16**6)
    a_prog = Programme(f"COV-{run:06X}-A", Funder.APBD_KABUPATEN, START, END)
    b_prog = Programme(f"COV-{run:06X}-B", Funder.APBD_KABUPATEN, START, END)
    a, b = good_workers(stack.rng, stack.pepper, stack.behaviour, "12.12", 2, START)
    stack.clock.set_day(date(2025, 1, 10))
    await define(stack.bootstrap, a_prog, b_prog)
    await produce(
        stack.bootstrap,
        [
            (a.worker_id, envelope(assigned(a, a_prog), f"quota-{a_prog.code}")),
            (b.worker_id, envelope(assigned(b, b_prog), f"quota-{b_prog.code}")),
        ],
    )
    await wait_enrolled(stack, [a], a_prog)
    await wait_enrolled(stack, [b], b_prog)
    reg = (await stack.enrollment_http.get(f"/enrollments/{a.worker_id}")).json()[0]
    assert reg["enrolled_on"] == "2025-01-10" and reg["coverage_start"] == "2025-01-01"

    # Enrolled, nothing paid yet: BPU coverage begins with the first premium.
    first = await coverage(stack, a, "2025-01-15")
    assert (first["covered"], first["reason"]) == (False, "PREMIUM_UNPAID")
    assert kinds(first) == [("EnrolledAtBPJS", None)]

    await pay_months(stack, a_prog, "2025-01", "2025-02")
    await pay_months(stack, b_prog, "2025-01", "2025-02")

    # Start: not before the enrollment day, though the programme began on the 1st.
    before = await coverage(stack, a, "2025-01-09")
    assert (before["covered"], before["reason"]) == (False, "BEFORE_COVERAGE_START")
    assert before["programme_code"] == a_prog.code and kinds(before) == [("EnrolledAtBPJS", None)]
    on_start = await coverage(stack, a, "2025-01-10")
    assert on_start["covered"] and on_start["reason"] == "PREMIUM_PAID"
    assert on_start["funder"] == "APBD_KABUPATEN" and on_start["kpj"] == reg["kpj"]
    assert on_start["period"] == {"from": "2025-01-10", "to": "2025-02-28"}
    assert kinds(on_start) == [("EnrolledAtBPJS", None), ("PremiumPaid", "2025-01")]
    assert on_start["nik"] == a.nik  # the caller passed it

    # The proof names real events: the enrollment and the payment that lists this worker.
    async with stack.engine.connect() as conn:
        proved = {
            str(e.event_id): e
            for e in await stack.enrollment.store.load(conn, f"registration-{a.worker_id}:{a_prog.code}")
        }
    enrolled_id = on_start["proof"][0]["event_id"]
    assert proved[enrolled_id].event_type == "EnrolledAtBPJS"
    paid_env = await _event(stack, on_start["proof"][1]["event_id"])
    assert paid_env.event_type == "PremiumPaid" and a.worker_id in paid_env.payload["worker_ids"]
    assert paid_env.payload["month"] == "2025-01" and paid_env.payload["paid_on"] == "2025-01-10"

    last_paid = await coverage(stack, a, "2025-02-28")
    assert last_paid["covered"] and kinds(last_paid)[-1] == ("PremiumPaid", "2025-02")
    unpaid = await coverage(stack, a, "2025-03-01")
    assert (unpaid["covered"], unpaid["reason"]) == (False, "PREMIUM_UNPAID")

    # March is due on March 1st and unpaid: no grace (the default), coverage lapses.
    stack.clock.set_day(date(2025, 3, 1))
    swept = (await stack.enrollment_http.post("/coverage/lapses")).json()
    assert swept["as_of"] == "2025-03-01" and swept["recorded"] >= 2
    lapses = [
        e
        for w, p in ((a, a_prog), (b, b_prog))
        for e in await stack.stream(f"registration-{w.worker_id}:{p.code}")
        if e.event_type == "CoverageLapsed"
    ]
    assert [(e.payload["lapsed_on"], e.payload["month_unpaid"]) for e in lapses] == [
        ("2025-02-28", "2025-03")
    ] * 2
    lapsed = await coverage(stack, a, "2025-03-01")
    assert not lapsed["covered"] and kinds(lapsed) == [
        ("EnrolledAtBPJS", None),
        ("PremiumPaid", "2025-02"),
        ("CoverageLapsed", "2025-03"),
    ]
    assert lapsed["proof"][2]["event_id"] == str(lapses[0].event_id)
    assert (await coverage(stack, a, "2025-02-28"))["covered"]
    again = (await stack.enrollment_http.post("/coverage/lapses")).json()
    assert again["recorded"] == 0  # a lapse is recorded once per unpaid month

    # March paid late for A (not for B): coverage restored from March 1st, today's view...
    stack.clock.set_day(date(2025, 3, 20))
    await pay_months(stack, a_prog, "2025-03")
    restored = [
        e
        for e in await stack.stream(f"registration-{a.worker_id}:{a_prog.code}")
        if e.event_type == "CoverageRestored"
    ]
    assert [(e.payload["month_paid"], e.payload["restored_from"]) for e in restored] == [
        ("2025-03", "2025-03-01")
    ]
    now_view = await coverage(stack, a, "2025-03-05")
    assert now_view["covered"] and now_view["period"] == {"from": "2025-01-10", "to": "2025-03-31"}
    # ...but an incident on March 5th, judged on what was known that day, was not covered.
    that_day = await coverage(stack, a, "2025-03-05", known_at="2025-03-05")
    assert (that_day["covered"], that_day["reason"]) == (False, "PREMIUM_UNPAID")
    assert ("CoverageLapsed", "2025-03") in kinds(that_day)
    b_view = await coverage(stack, b, "2025-03-05")
    assert not b_view["covered"] and ("CoverageLapsed", "2025-03") in kinds(b_view)

    # End: the rest of the year paid ahead; covered to December 31st and not a day more.
    await pay_months(stack, a_prog, *(f"2025-{m:02d}" for m in range(4, 13)))
    last_day = await coverage(stack, a, "2025-12-31")
    assert last_day["covered"] and last_day["period"] == {"from": "2025-01-10", "to": "2025-12-31"}
    assert kinds(last_day)[-1] == ("PremiumPaid", "2025-12")
    after = await coverage(stack, a, "2026-01-01")
    assert (after["covered"], after["reason"]) == (False, "AFTER_COVERAGE_END")

    # By worker id (NIK masked), a stranger, and a malformed NIK.
    by_id = (
        await stack.enrollment_http.get(f"/workers/{a.worker_id}/coverage", params={"on": "2025-06-15"})
    ).json()
    assert by_id["covered"] and by_id["nik"] == a.nik[:4] + "*" * 10 + a.nik[-2:]
    stranger = await stack.enrollment_http.post(
        "/coverage", json={"nik": "1217010101900001", "on": "2025-06-15"}
    )
    assert stranger.status_code == 200
    assert (stranger.json()["covered"], stranger.json()["reason"]) == (False, "NOT_ENROLLED")
    bad = await stack.enrollment_http.post("/coverage", json={"nik": "12170101", "on": "2025-06-15"})
    assert bad.status_code == 422 and bad.json()["detail"]["code"] == "NIK_FORMAT"
    in_url = await stack.enrollment_http.get(f"/coverage/{a.nik}", params={"on": "2025-06-15"})
    assert in_url.status_code == 405 and in_url.json()["detail"]["code"] == "NIK_NOT_IN_URL"


async def _event(stack: Stack, event_id: str) -> Any:
    events = stack.enrollment.definition.tables.events
    async with stack.engine.connect() as conn:
        row = (await conn.execute(select(events).where(events.c.event_id == event_id))).one()
    return row_to_envelope(row)
