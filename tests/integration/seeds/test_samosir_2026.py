"""Samosir 2026 "LANJUTKAN" (docs/examples/samosir-2026.yaml): Rp395,904,000 for 1,815 workers,
1,495 continuing and 320 new, run as a year at 1/100 of its size. The continuing participants are
already known to BPJS (the simulator is preloaded with them, as BPJS holds them): each keeps the
KPJ they hold, the new payer takes over. The Rp30,000,000 the cap leaves above the 1,815 seats'
cost is shown plainly by allocation's budget view, at full size and scaled."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest

from lindung_cli.benchmarks.programme_year import (
    People,
    Plan,
    Stack,
    read_programme,
    run_year,
    scale_programme,
)
from tests.integration.seeds.checks import (
    assert_audit,
    assert_claims,
    assert_dashboard,
    assert_ended,
    assert_money,
    define_full_size,
    enrollment_events,
)
from tests.integration.seeds.conftest import RUN

pytestmark = pytest.mark.integration

FILE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "samosir-2026.yaml"
FACTOR = Fraction(1, 100)


async def test_samosir_2026_continuing_participants_keep_their_kpj_and_the_headroom_shows(
    stack: Stack,
) -> None:
    spec = read_programme(FILE)
    stack.today(date(2025, 11, 1))
    # The real file, at full size: Rp30,000,000 above the quota's cost, in the budget view.
    full = await define_full_size(stack, spec, f"SAMOSIR-FULL-{RUN}")
    budget = full
    assert (budget["budget_cap"], budget["seats_total"]) == (395_904_000, 1_815)
    assert budget["quota_cost"] == 1_815 * 201_600 == 365_904_000
    assert budget["quota_headroom"] == 30_000_000 and budget["shortfall"] == 0

    small = scale_programme(spec, f"SAMOSIR-{RUN}", FACTOR)
    seats = small["quotas"][0]["seats"]
    continuing_n, new_n = round(1_495 * FACTOR), round(320 * FACTOR)
    assert (seats, continuing_n + new_n) == (18, 18)
    assert small["budget_cap"] == 18 * 201_600 + 300_000  # the Rp30,000,000, scaled
    people = People(seed=1217, year=2026)
    continuing = [people.worker("12.17", "non_sawit") for _ in range(continuing_n)]
    new = [people.worker("12.17", "non_sawit", desil=2) for _ in range(new_n)]
    kpjs = {w.nik: f"KPJ-LANJUT-{RUN}-{i:03d}" for i, w in enumerate(continuing)}
    preload = {
        "participants": [{"nik": nik, "kpj": kpj, "registered_on": "2024-03-01"} for nik, kpj in kpjs.items()]
    }
    loaded = await stack.http["bpjs_simulator"].post("/control/participants", json=preload)
    assert loaded.status_code == 200, loaded.text

    # Continuing workers first (they rank first in nomination order), then the new ones.
    outcome = await run_year(stack, small, [*continuing, *new], Plan(signer="Bupati Samosir"))
    year = outcome.year
    view = await year.view()
    assert view["budget"]["quota_headroom"] == 300_000
    assert view["budget"]["committed_workers"] == seats - 2  # the seats of the death and withdrawal

    enrolled = await enrollment_events(year, {"EnrolledAtBPJS"}, seats)
    by_worker = {e.payload["worker_id"]: e.payload for e in enrolled}
    for w in continuing:
        got = by_worker[stack.worker_id(w)]
        assert (got["kpj"], got["continuing"]) == (kpjs[w.nik], True)
    for w in new:
        got = by_worker[stack.worker_id(w)]
        assert got["continuing"] is False and got["kpj"] not in kpjs.values()
    assert len({p["kpj"] for p in by_worker.values()}) == seats

    assert outcome.dead and outcome.withdrawn
    stack.today(date(2027, 1, 20))
    cases = {
        "IN": (
            year.books.members[stack.worker_id(new[0])],
            "JKK",
            "MEDICAL",
            date(2026, 9, 3),
            3_000_000,
            [],
        ),
        "GONE": (outcome.withdrawn, "JKM", "DEATH", date(2026, 8, 1), 42_000_000, ["COVERAGE_ENDED"]),
    }
    await assert_claims(year, cases)

    money = await assert_money(outcome)
    assert money["headroom"] > 300_000  # a death and a withdrawal left months unbilled
    await assert_ended(outcome)
    summary = await assert_dashboard(outcome, money)
    assert summary["totals"]["claims_flagged"] == 2
    await assert_audit()
