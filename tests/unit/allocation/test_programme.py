import re
from datetime import date
from typing import Any

import pytest
from pydantic import ValidationError

from services.allocation.domain.programme import (
    DEFAULT_OCCUPATIONS,
    DecreeKind,
    Funder,
    Programme,
    ProgrammeFileError,
)
from services.allocation.domain.sector import QuotaCell, Sector
from tests.unit.allocation.factories import SUMUT_REGENCIES, programme, programme_data

MINIMAL_YAML = """
code: SUMUT-2025
name: Uji
year: 2025
funder: APBD_PROVINSI
jurisdiction: "12"
coverage_start: 2025-01-01
budget_cap: 4210000000
decree_kind: SK_GUBERNUR
quotas:
  - {regency: "12.71", sector: sawit, seats: 10}
"""


def test_defaults_come_from_the_model() -> None:
    p = Programme.from_yaml(MINIMAL_YAML, SUMUT_REGENCIES)

    assert (p.premium_jkk, p.premium_jkm, p.months) == (10_000, 6_800, 12)
    assert p.allowed_deciles == (1, 2)
    assert (p.age_min, p.age_max) == (15, 65)
    assert p.occupations == DEFAULT_OCCUPATIONS
    assert len(p.occupations) == 12
    assert p.occupations[0] == "petani" and p.occupations[-1] == "lainnya"
    assert p.funder is Funder.APBD_PROVINSI
    assert p.decree_kind is DecreeKind.SK_GUBERNUR
    assert p.quotas[0].sector is Sector.SAWIT


def test_derived_money() -> None:
    p = programme()

    assert p.premium_per_month == 16_800
    assert p.cost_per_worker == 201_600
    assert p.seats_total == 100
    assert p.budget_position().affordable_workers == 100
    assert p.budget_position(committed_workers=40).headroom == 60 * 201_600


def test_seats_by_cell_and_sector() -> None:
    p = programme()

    assert p.seats_by_cell() == {
        QuotaCell("12.71", Sector.SAWIT): 60,
        QuotaCell("12.04", Sector.NON_SAWIT): 40,
    }
    assert p.seats_by_sector() == {Sector.SAWIT: 60, Sector.NON_SAWIT: 40}


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        ("2025-01-01", 12, date(2025, 12, 31)),
        ("2025-01-15", 12, date(2025, 12, 31)),
        ("2025-04-01", 9, date(2025, 12, 31)),
        ("2024-02-01", 1, date(2024, 2, 29)),
        ("2023-02-01", 1, date(2023, 2, 28)),
        ("2025-12-01", 1, date(2025, 12, 31)),
        ("2025-11-01", 2, date(2025, 12, 31)),
    ],
)
def test_coverage_ends_on_the_last_day_of_the_last_month(start: str, months: int, end: date) -> None:
    p = programme(coverage_start=start, months=months, year=int(start[:4]))

    assert p.coverage_end == end
    assert p.period.start == date.fromisoformat(start)
    assert p.period.end == end


def test_overlap_between_programmes() -> None:
    jan = programme(coverage_start="2025-01-01")
    april = programme(code="OTHER-2025", coverage_start="2025-04-01", months=9)
    next_year = programme(code="SUMUT-2026", year=2026, coverage_start="2026-01-01")

    assert jan.overlaps(april) and april.overlaps(jan)
    assert not jan.overlaps(next_year)
    assert not april.overlaps(next_year)


@pytest.mark.parametrize(
    ("start", "months", "last"),
    [("2025-04-01", 12, 9), ("2025-12-01", 2, 1), ("2024-03-01", 12, 10), ("2025-01-01", 13, 12)],
)
def test_a_period_running_past_31_december_is_refused(start: str, months: int, last: int) -> None:
    # A budget is for one fiscal year: the months after December need next year's programme.
    with pytest.raises(ValidationError, match=rf"past 31 December {start[:4]}.*months to at most {last}\b"):
        programme(coverage_start=start, months=months, year=int(start[:4]))


def test_programme_rules_default_to_the_lenient_reading() -> None:
    p = Programme.from_yaml(MINIMAL_YAML, SUMUT_REGENCIES)

    assert p.admit_dtks_only is True
    assert p.nik_regency_must_match is False
    assert p.village_cap is None


def test_programme_rules_are_read_from_the_file() -> None:
    text = MINIMAL_YAML + "admit_dtks_only: false\nnik_regency_must_match: true\nvillage_cap: 100\n"
    p = Programme.from_yaml(text, SUMUT_REGENCIES)

    assert (p.admit_dtks_only, p.nik_regency_must_match, p.village_cap) == (False, True, 100)


@pytest.mark.parametrize("cap", [0, -5, 2.5, "100"])
def test_a_village_cap_is_a_positive_whole_number(cap: object) -> None:
    with pytest.raises(ValidationError, match="village_cap"):
        programme(village_cap=cap)


def test_a_perkada_fixes_a_regency_programme() -> None:
    # Pakpak Bharat 2025: 890 palm-oil workers from DBH Sawit under a Peraturan Kepala Daerah.
    p = programme(
        code="PAKPAK-BHARAT-2025",
        funder="DBH_SAWIT",
        jurisdiction="12.15",
        decree_kind="PERKADA",
        quotas=[{"regency": "12.15", "sector": "sawit", "seats": 890}],
    )

    assert p.decree_kind is DecreeKind.PERKADA


@pytest.mark.parametrize(
    "overrides",
    [
        {"budget_cap": 4_210_000_000.0},
        {"premium_jkk": 10_000.5},
        {"premium_jkm": 6800.0},
        {"budget_cap": "4210000000"},
        {"budget_cap": True},
        {"quotas": [{"regency": "12.71", "sector": "sawit", "seats": 10.0}]},
        {"months": 12.0},
    ],
)
def test_rupiah_and_counts_must_be_integers(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        programme(**overrides)


def test_a_float_in_the_yaml_file_is_refused() -> None:
    text = MINIMAL_YAML.replace("budget_cap: 4210000000", "budget_cap: 4210000000.0")

    with pytest.raises(ValidationError, match="budget_cap"):
        Programme.from_yaml(text, SUMUT_REGENCIES)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"quotas": [{"regency": "12.99", "sector": "sawit", "seats": 1}]}, "not a known"),
        ({"quotas": [{"regency": "1271", "sector": "sawit", "seats": 1}]}, "pattern"),
        ({"quotas": [{"regency": "12.71", "sector": "kopi", "seats": 1}]}, "sector"),
        ({"quotas": [{"regency": "12.71", "sector": "sawit", "seats": -1}]}, "seats"),
        ({"quotas": []}, "quotas"),
        (
            {
                "quotas": [
                    {"regency": "12.71", "sector": "sawit", "seats": 1},
                    {"regency": "12.71", "sector": "sawit", "seats": 2},
                ]
            },
            "duplicate quota for 12.71 sawit",
        ),
        ({"jurisdiction": "12.99"}, "jurisdiction"),
        ({"funder": "APBD_KABUPATEN"}, "APBD_KABUPATEN"),
        ({"decree_kind": "SK_BUPATI"}, "SK_GUBERNUR"),
        ({"funder": "APBN"}, "funder"),
        ({"allowed_deciles": []}, "at least one"),
        ({"allowed_deciles": [1, 11]}, "1 to 10"),
        ({"allowed_deciles": [1, 1]}, "twice"),
        ({"age_min": 66}, "age_min 66 is above age_max 65"),
        ({"occupations": ["petani", "petani"]}, "twice"),
        ({"occupations": ["petani", " "]}, "non-blank"),
        ({"coverage_start": "2026-01-01"}, "not in year 2025"),
        ({"coverage_start": 1735689600}, "coverage_start"),
        ({"code": "sumut 2025"}, "code"),
        ({"months": 0}, "months"),
        ({"budget_cap": 0}, "budget_cap"),
        ({"nama": "typo"}, "nama"),
    ],
)
def test_invalid_settings_are_refused(overrides: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        programme(**overrides)


def test_regency_programme_rules() -> None:
    base = {
        "code": "SAMOSIR-2026",
        "year": 2026,
        "coverage_start": "2026-01-01",
        "funder": "APBD_KABUPATEN",
        "jurisdiction": "12.17",
        "decree_kind": "SK_BUPATI",
        "quotas": [{"regency": "12.17", "sector": "non_sawit", "seats": 1815}],
    }
    assert programme(**base).jurisdiction == "12.17"

    outside = {**base, "quotas": [{"regency": "12.71", "sector": "sawit", "seats": 1}]}
    with pytest.raises(ValidationError, match=re.escape("outside jurisdiction 12.17")):
        programme(**outside)
    with pytest.raises(ValidationError, match="SK_BUPATI"):
        programme(**{**base, "decree_kind": "SK_GUBERNUR"})
    with pytest.raises(ValidationError, match="APBD_PROVINSI"):
        programme(**{**base, "funder": "APBD_PROVINSI"})


def test_known_regencies_are_required() -> None:
    with pytest.raises(ValidationError, match="known_regencies is required"):
        Programme.model_validate(programme_data())


def test_known_regencies_come_from_the_caller() -> None:
    only_medan = {"12.71"}

    with pytest.raises(ValidationError, match=re.escape("'12.04' is not a known")):
        Programme.from_mapping(programme_data(), only_medan)


def test_programme_is_frozen() -> None:
    p = programme()

    with pytest.raises(ValidationError):
        p.budget_cap = 1  # type: ignore[misc]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- just\n- a list\n", "mapping"),
        ("code: [unclosed\n", "not valid YAML"),
        (MINIMAL_YAML + "budget_cap: 1\n", "'budget_cap' appears twice"),
        (
            MINIMAL_YAML.replace("seats: 10}", "seats: 10, seats: 20}"),
            "'seats' appears twice",
        ),
    ],
)
def test_bad_files_are_refused(text: str, message: str) -> None:
    with pytest.raises(ProgrammeFileError, match=message):
        Programme.from_yaml(text, SUMUT_REGENCIES)


def test_regency_codes_agree_with_the_registry_table() -> None:
    regions = pytest.importorskip("libs.regions")

    assert {r.kemendagri_code for r in regions.all_regions()} == SUMUT_REGENCIES
