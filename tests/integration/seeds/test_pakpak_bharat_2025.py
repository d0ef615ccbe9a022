"""Pakpak Bharat 2025 (docs/examples/pakpak-bharat-2025.yaml): 890 palm-oil workers on DBH Sawit,
decided by a Peraturan Kepala Daerah, run as a year at 1/100 of its size. The DBH Sawit money
stops after August: four months unpaid end every remaining worker's BPU membership."""

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
)
from tests.integration.seeds.conftest import RUN

pytestmark = pytest.mark.integration

FILE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "pakpak-bharat-2025.yaml"


async def test_pakpak_bharat_2025_a_perkada_year_on_dbh_sawit(stack: Stack) -> None:
    spec = read_programme(FILE)
    assert (spec["funder"], spec["decree_kind"], spec["quotas"][0]["seats"]) == ("DBH_SAWIT", "PERKADA", 890)
    assert spec["budget_cap"] == 890 * 16_800 * 12  # the exact cost
    small = scale_programme(spec, f"PAKPAK-{RUN}", Fraction(1, 100))
    people = People(seed=1215, year=2025)
    seated = [people.worker("12.15", "sawit") for _ in range(small["quotas"][0]["seats"])]
    waiting = [people.worker("12.15", "sawit")]
    poorer_than_allowed = people.worker("12.15", "sawit", desil=3)
    unknown = people.worker("12.15", "sawit")  # in no extract
    extract = {w.nik: w.decile for w in [*seated, *waiting, poorer_than_allowed]}

    outcome = await run_year(
        stack,
        small,
        seated,
        Plan(signer="Bupati Pakpak Bharat", stop_from=8),
        waiting=waiting,
        others=[poorer_than_allowed, unknown],
        extract=extract,
    )
    year = outcome.year
    # The programme as the registry learnt it (ProgrammeDefined): decided by a Perkada.
    known = {p["programme_code"]: p for p in (await stack.http["registry"].get("/programmes")).json()}
    assert known[year.code]["decree_kind"] == "PERKADA"
    rejected = (
        await stack.http["registry"].get(
            "/nominations", params={"programme": year.code, "status": "rejected"}
        )
    ).json()
    assert rejected["total"] == 2

    # Claims as BPJS pushes them, after the year.
    assert outcome.dead and outcome.withdrawn and outcome.promoted and outcome.stopped
    active = outcome.stopped[0]
    stack.today(date(2026, 2, 10))
    cases = {
        "IN": (active, "JKK", "MEDICAL", date(2025, 4, 10), 2_500_000, []),
        "DEATH": (outcome.dead, "JKM", "DEATH", date(2025, 3, 10), 42_000_000, []),
        "EARLY": (outcome.promoted, "JKK", "MEDICAL", date(2025, 1, 15), 800_000, ["BEFORE_ENROLLMENT"]),
        "GONE": (outcome.withdrawn, "JKK", "MEDICAL", date(2025, 8, 5), 900_000, ["COVERAGE_ENDED"]),
        "UNPAID": (active, "JKK", "MEDICAL", date(2025, 11, 10), 700_000, ["MEMBERSHIP_ENDED"]),
        "LATER": (active, "JKK", "MEDICAL", date(2026, 1, 20), 600_000, ["INCIDENT_OUTSIDE_COVERAGE"]),
    }
    await assert_claims(year, cases)

    money = await assert_money(outcome)
    await assert_ended(outcome)
    summary = await assert_dashboard(outcome, money)
    assert summary["totals"]["claims"] == len(cases) + 1
    assert summary["totals"]["claims_flagged"] == 5
    await assert_audit()
