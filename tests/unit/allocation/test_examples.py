"""Every programme file in docs/examples validates and adds up to the publicly reported figures."""

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from services.allocation.domain.cross_programme import ProgrammeHold, check_cross_programme
from services.allocation.domain.programme import Funder, Programme
from services.allocation.domain.sector import Sector
from tests.unit.allocation.factories import SUMUT_REGENCIES

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"
FILES = sorted(EXAMPLES.glob("*.yaml"))
NIAS_AND_SIANTAR = {"12.04", "12.14", "12.24", "12.25", "12.78", "12.72"}


def load(name: str) -> Programme:
    return Programme.from_yaml((EXAMPLES / name).read_text(encoding="utf-8"), SUMUT_REGENCIES)


def test_the_five_examples_and_the_demo_are_there() -> None:
    assert [f.name for f in FILES] == [
        "demo-sumut-2026.yaml",
        "labuhanbatu-2025-apbd-tambahan.yaml",
        "labuhanbatu-2025-apbd.yaml",
        "labuhanbatu-2025-dbh-sawit.yaml",
        "pakpak-bharat-2025.yaml",
        "samosir-2026.yaml",
        "sumut-2024.yaml",
        "sumut-2025.yaml",
    ]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_every_example_validates(path: Path) -> None:
    p = Programme.from_yaml(path.read_text(encoding="utf-8"), SUMUT_REGENCIES)

    assert p.code.lower().startswith(path.stem.split("-")[0])
    assert p.premium_per_month == 16_800
    # Twelve months, or to 31 December for a programme starting later in its fiscal year.
    assert p.months == 12 or p.coverage_end == date(p.year, 12, 31)


def test_sumut_2025() -> None:
    p = load("sumut-2025.yaml")
    sawit = {q.regency for q in p.quotas if q.sector is Sector.SAWIT}
    non_sawit = {q.regency for q in p.quotas if q.sector is Sector.NON_SAWIT}

    assert p.funder is Funder.APBD_PROVINSI and p.jurisdiction == "12"
    assert p.seats_total == 20_877
    assert p.seats_by_sector() == {Sector.SAWIT: 17_359, Sector.NON_SAWIT: 3_518}
    assert (len(sawit), len(non_sawit)) == (22, 11)
    assert sawit | non_sawit == SUMUT_REGENCIES
    assert non_sawit.issuperset(NIAS_AND_SIANTAR)
    budget = p.budget_position()
    assert budget.quota_cost == 4_208_803_200
    assert p.budget_cap == 4_210_000_000
    assert budget.shortfall == 0 and budget.affordable_workers == 20_882


def test_sumut_2024() -> None:
    p = load("sumut-2024.yaml")
    budget = p.budget_position()

    assert p.seats_total == 10_000
    assert {q.regency for q in p.quotas} == SUMUT_REGENCIES
    assert p.budget_cap == 2_000_000_000
    assert budget.quota_cost == 2_016_000_000
    assert budget.shortfall == 16_000_000
    assert budget.affordable_workers == 9_920


def test_samosir_2026() -> None:
    p = load("samosir-2026.yaml")
    budget = p.budget_position(committed_workers=1_815)

    assert (p.funder, p.jurisdiction, p.seats_total) == (Funder.APBD_KABUPATEN, "12.17", 1_815)
    assert p.seats_total == 1_495 + 320
    assert p.budget_cap == 395_904_000
    assert budget.committed_rupiah == 365_904_000
    assert budget.headroom == 30_000_000


def test_labuhanbatu_2025_runs_two_overlapping_programmes() -> None:
    apbd = load("labuhanbatu-2025-apbd.yaml")
    dbh = load("labuhanbatu-2025-dbh-sawit.yaml")

    assert apbd.seats_total == 100 * 75 == 7_500
    assert dbh.seats_total == 3_800
    assert dbh.seats_by_sector()[Sector.SAWIT] == 3_800
    assert (apbd.funder, dbh.funder) == (Funder.APBD_KABUPATEN, Funder.SILPA_DBH_SAWIT)
    assert apbd.jurisdiction == dbh.jurisdiction == "12.10"
    assert apbd.budget_position().shortfall == dbh.budget_position().shortfall == 0
    assert apbd.overlaps(dbh)

    first = ProgrammeHold(apbd.code, apbd.period, datetime(2025, 1, 5, tzinfo=UTC))
    second = ProgrammeHold(dbh.code, dbh.period, datetime(2025, 3, 1, tzinfo=UTC))
    assert check_cross_programme([first], second).held_by == apbd.code


def test_only_the_demo_skips_the_decree() -> None:
    assert [f.name for f in FILES if not load(f.name).requires_decree] == ["demo-sumut-2026.yaml"]
