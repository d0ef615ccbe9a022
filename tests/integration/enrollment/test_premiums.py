"""The month's bill: workers × Rp16,800 per funder and regency to the rupiah (JKK Rp10,000 + JKM
Rp6,800), paid to BPJS and recorded as PremiumPaid when BPJS confirms; never a worker twice."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date
from typing import Any

import pytest
import uvicorn
from sqlalchemy import delete, select
from typer.testing import CliRunner

from libs.events.contracts.bpjs import ClaimPaid
from libs.events.contracts.common import Funder
from libs.runtime.service import create_app
from lindung_cli.embedded import free_port
from lindung_cli.main import app as cli
from services.bpjs_simulator.adapters.tables import held_messages, paid_months
from tests.integration.enrollment.support import (
    Programme,
    Stack,
    Worker,
    all_events,
    assigned,
    define,
    envelope,
    good_workers,
    produce,
    wait_enrolled,
)
from tests.running import eventually

pytestmark = pytest.mark.integration

START, END = date(2026, 1, 1), date(2026, 12, 31)
JKK, JKM = 10_000, 6_800


async def bill(stack: Stack, programme: str, month: str) -> Any:
    return await stack.enrollment_http.post(
        "/premiums/bills", json={"programme_code": programme, "month": month}
    )


async def settled(stack: Stack, programme: str, month: str) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        got = await stack.enrollment_http.get(
            "/premiums/bills", params={"programme": programme, "month": month}
        )
        body: dict[str, Any] = got.json()
        return body if body["settled"] else None

    result: dict[str, Any] = await eventually(check, timeout_s=60, interval_s=0.3)
    return result


def per_line(summary: dict[str, Any]) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    return {
        (line["funder"], line["regency_code"]): (
            line["workers"],
            line["jkk_total"],
            line["jkm_total"],
            line["total"],
        )
        for line in summary["lines"]
    }


def expected_lines(funder: str, counts: dict[str, int]) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    return {(funder, regency): (n, n * JKK, n * JKM, n * 16_800) for regency, n in counts.items()}


async def test_month_bill_per_funder_and_regency_is_paid_once(stack: Stack) -> None:
    run = stack.rng.randrange(16**6)
    stack.clock.set_day(date(2026, 2, 3))
    prov = Programme(f"BILL-{run:06X}-PROV", Funder.APBD_PROVINSI, START, END)
    dbh = Programme(f"BILL-{run:06X}-DBH", Funder.DBH_SAWIT, START, END)
    prov_counts = {"12.17": 7, "12.10": 5, "12.71": 3}
    dbh_counts = {"12.10": 4, "12.15": 6}
    workers: dict[str, list[Worker]] = {}
    for p, counts in ((prov, prov_counts), (dbh, dbh_counts)):
        workers[p.code] = [
            w
            for regency, n in counts.items()
            for w in good_workers(stack.rng, stack.pepper, stack.behaviour, regency, n, START)
        ]
    await define(stack.bootstrap, prov, dbh)
    await produce(
        stack.bootstrap,
        [
            (w.worker_id, envelope(assigned(w, p), f"quota-{p.code}", i + 1))
            for p in (prov, dbh)
            for i, w in enumerate(workers[p.code])
        ],
    )
    await wait_enrolled(stack, workers[prov.code], prov)
    await wait_enrolled(stack, workers[dbh.code], dbh)

    # Enrolled on February 3rd: January is not theirs to pay.
    january = await bill(stack, prov.code, "2026-01")
    assert january.status_code == 201 and january.json()["created"] == [] and january.json()["lines"] == []

    february = await bill(stack, prov.code, "2026-02")
    assert february.status_code == 201, february.text
    body = february.json()
    # Bill lines hold at most 4 workers here (LINDUNG_ENROLLMENT_BILL_MAX_WORKERS): 7 = 4 + 3.
    assert len(body["created"]) == 2 + 2 + 1
    assert per_line(body) == expected_lines("APBD_PROVINSI", prov_counts)
    assert body["totals"]["workers"] == 15 and body["totals"]["total"] == 15 * 16_800 == 252_000
    assert (body["totals"]["jkk_total"], body["totals"]["jkm_total"]) == (150_000, 102_000)

    # The other funder's programme through the CLI, against the service over real HTTP.
    output = await cli_bill(stack, dbh.code, "2026-02")
    assert "Rp67.200" in output and "Rp100.800" in output and "Rp168.000" in output, output
    assert "12.15" in output and "DBH_SAWIT" in output

    paid_prov = await settled(stack, prov.code, "2026-02")
    paid_dbh = await settled(stack, dbh.code, "2026-02")
    for summary, funder, counts in (
        (paid_prov, "APBD_PROVINSI", prov_counts),
        (paid_dbh, "DBH_SAWIT", dbh_counts),
    ):
        assert per_line(summary) == expected_lines(funder, counts)
        assert summary["bills"]["failed"] == 0 and summary["bills"]["requested"] == 0
        assert summary["totals"]["paid_total"] == summary["totals"]["total"] == sum(counts.values()) * 16_800
        for line in summary["lines"]:
            assert all(b["payment_ref"] and b["paid_on"] == "2026-02-03" for b in line["bills"])

    # PremiumPaid per bill line, listing its workers: each worker's month paid exactly once.
    events = await all_events(stack.enrollment)
    paid = [e.payload for e in events if e.event_type == "PremiumPaid" and e.payload["month"] == "2026-02"]
    paid = [p for p in paid if p["programme_code"] in (prov.code, dbh.code)]
    listed = Counter(w for p in paid for w in p["worker_ids"])
    everyone = {w.worker_id for ws in workers.values() for w in ws}
    assert set(listed) == everyone and set(listed.values()) == {1}
    assert all(p["total"] == p["workers"] * 16_800 == len(p["worker_ids"]) * 16_800 for p in paid)
    assert len({p["payment_ref"] for p in paid}) == len(paid)
    async with stack.simulator.engine.connect() as conn:
        booked = (
            await conn.execute(
                select(paid_months.c.kpj).where(
                    paid_months.c.payment_request_id.in_([p["bill_id"] for p in paid])
                )
            )
        ).all()
    assert len(booked) == 25

    # Billing the month again bills nobody twice; a worker enrolled since is billed alone.
    again = await bill(stack, prov.code, "2026-02")
    assert again.json()["created"] == [] and per_line(again.json()) == expected_lines(
        "APBD_PROVINSI", prov_counts
    )
    (late,) = good_workers(stack.rng, stack.pepper, stack.behaviour, "12.17", 1, START)
    await produce(
        stack.bootstrap, [(late.worker_id, envelope(assigned(late, prov), f"quota-{prov.code}", 99))]
    )
    await wait_enrolled(stack, [*workers[prov.code], late], prov)
    supplement = await bill(stack, prov.code, "2026-02")
    assert len(supplement.json()["created"]) == 1
    assert per_line(supplement.json())[("APBD_PROVINSI", "12.17")] == (8, 80_000, 54_400, 134_400)
    final = await settled(stack, prov.code, "2026-02")
    assert final["totals"] == {
        "workers": 16,
        "jkk_total": 160_000,
        "jkm_total": 108_800,
        "total": 268_800,
        "workers_paid": 16,
        "paid_total": 268_800,
    }

    # The simulator pushes a claim BPJS paid for one of them. It is held while the simulator is
    # down; the test takes it back before the outage ends, because the claims topic is shared
    # with the claims service's own tests in this session (its release is the answers' path).
    someone = workers[dbh.code][0]
    kpj = next(
        r["kpj"]
        for r in (await stack.enrollment_http.get(f"/enrollments/{someone.worker_id}")).json()
        if r["programme_code"] == dbh.code
    )
    claim_id = f"CLM-{run:06X}"
    await stack.simulator_http.post("/control/outage", params={"seconds": 30})
    try:
        pushed = await stack.simulator_http.post(
            "/control/claims",
            json={
                "kpj": kpj,
                "programme": "JKK",
                "benefit_kind": "MEDICAL",
                "incident_date": "2026-02-10",
                "amount": 2_500_000,
                "claim_id": claim_id,
            },
        )
        assert pushed.status_code == 202 and pushed.json() == {
            "claim_id": claim_id,
            "kpj": kpj,
            "outage": True,
        }
        async with stack.simulator.engine.begin() as conn:
            (held,) = (
                await conn.execute(
                    delete(held_messages)
                    .where(held_messages.c.stream == f"bpjs-claim-{claim_id}")
                    .returning(held_messages)
                )
            ).all()
        claim = ClaimPaid.model_validate(held.payload)
        assert held.event_type == "ClaimPaid" and held.released_at is None
        assert (claim.kpj, claim.nik, claim.amount) == (kpj, someone.nik, 2_500_000)
        assert claim.paid_date == date(2026, 2, 3)  # the simulator's calendar
        unknown_kpj = await stack.simulator_http.post(
            "/control/claims",
            json={
                "kpj": "KPJ-NOBODY",
                "programme": "JKM",
                "benefit_kind": "DEATH",
                "incident_date": "2026-02-10",
                "amount": 1,
            },
        )
        assert unknown_kpj.status_code == 404 and unknown_kpj.json()["detail"]["code"] == "KPJ_UNKNOWN"
    finally:
        await stack.simulator_http.post("/control/outage", params={"seconds": 0})

    # Refusals officers can read.
    outside = await bill(stack, prov.code, "2027-01")
    assert outside.status_code == 422 and outside.json()["detail"]["code"] == "MONTH_OUTSIDE_PROGRAMME"
    unknown = await bill(stack, f"NOPE-{run}", "2026-02")
    assert unknown.status_code == 404 and unknown.json()["detail"]["code"] == "PROGRAMME_UNKNOWN"
    assert "tidak dikenal" in unknown.json()["detail"]["message"]
    invalid = await stack.enrollment_http.post(
        "/premiums/bills", json={"programme_code": prov.code, "month": "2026-13"}
    )
    assert invalid.status_code == 422


async def cli_bill(stack: Stack, programme: str, month: str) -> str:
    """`lindung premiums bill` against the enrollment service served over HTTP on a free port."""
    app = create_app(stack.enrollment.definition)
    app.state.runtime = stack.enrollment
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None))
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: _started(server), timeout_s=10)
        result = await asyncio.to_thread(
            CliRunner().invoke,
            cli,
            [
                "premiums",
                "bill",
                "--programme",
                programme,
                "--month",
                month,
                "--url",
                f"http://127.0.0.1:{port}",
            ],
            env={"COLUMNS": "200"},
        )
    finally:
        server.should_exit = True
        await task
    assert result.exit_code == 0, result.output
    return result.output


async def _started(server: uvicorn.Server) -> bool:
    return server.started
