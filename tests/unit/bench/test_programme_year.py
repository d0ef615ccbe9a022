"""The programme-year driver's own rules, without a stack: scaling a programme file keeps the money
exact, workers are real people of real places, and the books bill nobody after their end."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from libs.regions import find_desa, find_kecamatan, kecamatan_by_code
from lindung_cli.benchmarks.programme_year import (
    Books,
    Member,
    People,
    bench_cast,
    cost_per_worker,
    coverage_months,
    read_programme,
    scale_programme,
    seats_of,
)

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"


@pytest.mark.parametrize(
    ("name", "factor", "seats", "cap"),
    [
        ("sumut-2024.yaml", Fraction(1, 100), 100, 20_000_000),  # Rp2 bn / 100, still Rp160,000 short
        ("sumut-2025.yaml", Fraction(1, 200), 105, 105 * 201_600 + 5_984),  # Rp1,196,800 / 200 left
        ("samosir-2026.yaml", Fraction(1, 100), 18, 18 * 201_600 + 300_000),  # Rp30,000,000 / 100 left
        ("pakpak-bharat-2025.yaml", Fraction(1, 100), 9, 9 * 201_600),
        ("labuhanbatu-2025-dbh-sawit.yaml", Fraction(1, 200), 19, 19 * 16_800 * 9),  # 9 months
    ],
)
def test_scaling_keeps_the_money_exact(name: str, factor: Fraction, seats: int, cap: int) -> None:
    spec = read_programme(EXAMPLES / name)
    small = scale_programme(spec, "X", factor)
    assert (sum(seats_of(small).values()), small["budget_cap"]) == (seats, cap)
    assert set(seats_of(small)) == set(seats_of(spec))  # every regency and sector keeps a seat
    slack = spec["budget_cap"] - sum(seats_of(spec).values()) * cost_per_worker(spec)
    assert small["budget_cap"] - seats * cost_per_worker(spec) == slack * factor


def test_a_slack_that_does_not_scale_to_whole_rupiah_is_refused() -> None:
    spec = read_programme(EXAMPLES / "sumut-2025.yaml")  # Rp1,196,800 left over
    with pytest.raises(ValueError, match="whole rupiah"):
        scale_programme(spec, "X", Fraction(1, 3))


def test_the_village_cap_scales_and_the_months_follow_the_file() -> None:
    apbd = scale_programme(read_programme(EXAMPLES / "labuhanbatu-2025-apbd.yaml"), "X", Fraction(1, 300))
    assert apbd["village_cap"] == 1
    dbh = read_programme(EXAMPLES / "labuhanbatu-2025-dbh-sawit.yaml")
    assert coverage_months(dbh) == [f"2025-{m:02d}" for m in range(4, 13)]


def test_workers_live_in_real_places_and_their_nik_says_so() -> None:
    people = People(seed=7, year=2025)
    for regency in ("12.10", "12.17", "12.73"):
        w = people.worker(regency, "sawit")
        kecamatan = find_kecamatan(regency, w.kecamatan)
        assert kecamatan is not None and kecamatan.code == f"{regency}.{w.nik[4:6]}"
        assert find_desa(regency, w.desa, kecamatan.code) is not None
    moved = people.worker("12.10", "sawit", nik_regency="12.04")
    assert moved.nik.startswith("1204") and kecamatan_by_code(f"12.04.{moved.nik[4:6]}") is not None
    assert find_kecamatan("12.10", moved.kecamatan) is not None
    assert len({people.worker("12.15", "sawit").nik for _ in range(500)}) == 500


def test_the_books_bill_from_enrollment_to_the_end_once_each() -> None:
    people = People(seed=8, year=2025)
    a, b, c = (Member(people.worker("12.17", "non_sawit"), f"w{i}") for i in range(3))
    a.enrolled_month = b.enrolled_month = "2025-01"
    c.enrolled_month = "2025-03"  # promoted in March
    b.last_month = "2025-02"  # died in February
    books = Books(16_800, {m.worker_id: m for m in (a, b, c)})
    assert books.due("2025-01") == {"w0", "w1"}
    books.billed["2025-01"] |= books.due("2025-01")
    assert books.due("2025-01") == set()  # billing the month again bills nobody twice
    assert books.due("2025-03") == {"w0", "w2"}
    assert books.due("2025-03", regency="12.05") == set()
    books.billed["2025-03"] |= books.due("2025-03")
    assert books.worker_months() == 4 and books.total() == 4 * 16_800


def test_a_full_size_cast_seats_only_whom_the_money_pays_for() -> None:
    spec = read_programme(EXAMPLES / "sumut-2024.yaml")
    seated, waiting, rejected = bench_cast(spec, seed=1)
    assert (len(seated), len(waiting), len(rejected)) == (9_920, 81, 1)
    assert {w.decile for w in waiting} == {2} and rejected[0].decile == 3
    assert all(15 < 2024 - w.birth_date.year <= 65 for w in seated)  # of working age (programme default)
