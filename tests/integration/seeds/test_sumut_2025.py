"""North Sumatra 2025 (docs/examples/sumut-2025.yaml): 20,877 workers = 22 sawit regencies (17,359)
+ 11 non-sawit (3,518), P3KE desil 1-2 only (DTKS alone does not admit), run as a year at 1/200 of
its size across all 33 regencies. A worker living in Labuhanbatu with a NIK issued in Nias is
accepted with a note. Langkat's regency stops paying after August: four unpaid months end its
workers' membership; every other regency is billed on its own."""

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
    seats_of,
)
from tests.integration.seeds.checks import (
    assert_audit,
    assert_claims,
    assert_dashboard,
    assert_ended,
    assert_money,
    define_full_size,
)
from tests.integration.seeds.conftest import RUN

pytestmark = pytest.mark.integration

FILE = Path(__file__).resolve().parents[3] / "docs" / "examples" / "sumut-2025.yaml"
STOPPED = "12.05"  # Langkat
NIAS = "12.04"
LABUHANBATU = "12.10"


async def test_sumut_2025_a_province_year_of_33_regencies(stack: Stack) -> None:
    spec = read_programme(FILE)
    stack.today(date(2024, 11, 1))
    full = await define_full_size(stack, spec, f"SUMUT-2025-FULL-{RUN}")
    assert full["seats_total"] == 20_877 and full["quota_headroom"] == 1_196_800
    cells = (await stack.http["allocation"].get(f"/programmes/{full['programme_code']}/quotas")).json()
    for sector, regencies, seats in (("sawit", 22, 17_359), ("non_sawit", 11, 3_518)):
        mine = [c for c in cells if c["sector"] == sector]
        assert (len(mine), sum(c["seats"] for c in mine)) == (regencies, seats)

    small = scale_programme(spec, f"SUMUT-2025-{RUN}", Fraction(1, 200))
    people = People(seed=2025, year=2025)
    seated = []
    for (regency, sector), n in seats_of(small).items():
        seated += [people.worker(regency, sector, desil=1 + i % 2) for i in range(n)]
    # One of Labuhanbatu's lives there with a NIK issued in Nias (in place of one of its workers).
    at = next(i for i, w in enumerate(seated) if w.regency == LABUHANBATU)
    seated[at] = moved = people.worker(LABUHANBATU, seated[at].sector, nik_regency=NIAS)
    first = seated[0]
    # No seat left, until the first dies (desil 2, nominated last: ranks after every seated one).
    waiting = [people.worker(first.regency, first.sector, desil=2)]
    dtks_only = people.worker("12.72", "non_sawit")  # in DTKS, not in P3KE
    poorer_than_allowed = people.worker("12.78", "non_sawit", desil=3)
    extract = {w.nik: w.decile for w in [*seated, *waiting, poorer_than_allowed]}
    outcome = await run_year(
        stack,
        small,
        seated,
        Plan(signer="Gubernur Sumatera Utara", stop_from=8, stop_for=STOPPED),
        waiting=waiting,
        others=[dtks_only, poorer_than_allowed],
        extract=extract,
        dtks=[dtks_only.nik],
    )
    year = outcome.year
    reasons = {
        nik: [r["code"] for r in outcome.answers[nik].get("reasons") or []]
        for nik in (dtks_only.nik, poorer_than_allowed.nik)
    }
    assert reasons == {dtks_only.nik: ["DTKS_NOT_ACCEPTED"], poorer_than_allowed.nik: ["DECILE_NOT_ALLOWED"]}
    assert outcome.answers[moved.nik]["status"] == "validated"
    assert [n["code"] for n in outcome.answers[moved.nik]["notes"]] == ["NIK_ISSUED_ELSEWHERE"]
    assert year.books.members[stack.worker_id(moved)].enrolled_month == "2025-01"

    assert outcome.dead and outcome.withdrawn and outcome.promoted and outcome.stopped
    assert {m.worker.regency for m in outcome.stopped} == {STOPPED}
    active = next(m for m in year.books.members.values() if m.ended is None and m.worker.regency != STOPPED)
    stack.today(date(2026, 2, 10))
    cases = {
        "IN": (active, "JKK", "MEDICAL", date(2025, 10, 2), 4_000_000, []),
        "DEATH": (outcome.dead, "JKM", "DEATH", date(2025, 3, 12), 42_000_000, []),
        "EARLY": (outcome.promoted, "JKK", "MEDICAL", date(2025, 2, 1), 800_000, ["BEFORE_ENROLLMENT"]),
        "GONE": (outcome.withdrawn, "JKK", "MEDICAL", date(2025, 7, 7), 900_000, ["COVERAGE_ENDED"]),
        "UNPAID": (outcome.stopped[0], "JKK", "MEDICAL", date(2025, 11, 20), 500_000, ["MEMBERSHIP_ENDED"]),
    }
    await assert_claims(year, cases)

    money = await assert_money(outcome)
    await assert_ended(outcome)
    summary = await assert_dashboard(outcome, money)
    assert summary["totals"]["rejected"] == 2
    assert summary["totals"]["claims_flagged"] == 4
    await assert_audit()
