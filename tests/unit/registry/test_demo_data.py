"""`lindung demo generate`: a deterministic province-year whose defects come out at their rates.

The generated lists are read with the registry's own upload parser and decided with the domain
rules against the generated P3KE extract (no database), so the stated rates are what the
registry will actually answer.
"""

from __future__ import annotations

import csv
import hashlib
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from libs.regions import all_regions, region_by_code
from lindung_cli.demo import (
    DEFECT_RATES,
    EXAMPLE_WORKER,
    NOMINATION_FACTOR,
    examples_dir,
    generate_demo,
    generate_single_list,
    read_quotas,
)
from services.registry.adapters.upload import read_upload
from services.registry.domain.nik import ParsedNik, parse_nik
from services.registry.domain.nomination import NominationInput, ValidationContext, ValidationPolicy
from services.registry.domain.rules import find_duplicates_in_upload, validate_nomination

OCCUPATIONS = frozenset(
    {"petani", "nelayan", "sopir", "pemulung", "tukang becak", "juru parkir", "buruh harian lepas",
     "pedagang kaki lima", "pedagang keliling", "pekerja sosial keagamaan", "pekerja sawit", "lainnya"}
)  # fmt: skip
EVERY_CELL = frozenset((r.kemendagri_code, s) for r in all_regions() for s in ("sawit", "non_sawit"))
POLICY = ValidationPolicy(
    date(2026, 1, 1), 15, 65, frozenset({1, 2}), OCCUPATIONS, True, True, "12", EVERY_CELL, None
)


def digest(directory: Path) -> dict[str, str]:
    return {
        str(p.relative_to(directory)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("demo")
    return out, generate_demo(11, out)


def test_the_same_seed_writes_the_same_bytes(demo: tuple[Path, dict[str, Any]], tmp_path: Path) -> None:
    out, _ = demo
    generate_demo(11, tmp_path / "again")
    assert digest(out) == digest(tmp_path / "again")


def test_every_regency_proposes_about_one_point_two_times_its_quota(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    out, manifest = demo
    quotas = read_quotas(examples_dir() / "sumut-2025.yaml")
    seats: Counter[str] = Counter()
    for regency, _, n in quotas:
        seats[regency] += n
    assert len(seats) == 33
    for regency, n in seats.items():
        rows = manifest["files"][f"nominations/DEMO-SUMUT-2026/{regency}.csv"]
        assert rows == round(n * NOMINATION_FACTOR), regency
    assert manifest["province_rows"] == sum(round(n * NOMINATION_FACTOR) for _, _, n in quotas)
    assert (out / "programmes" / "DEMO-SUMUT-2026.yaml").exists()
    assert (out / "programmes" / "SAMOSIR-2026.yaml").exists()


def test_defects_are_injected_at_their_stated_rates(demo: tuple[Path, dict[str, Any]]) -> None:
    _, manifest = demo
    total = manifest["province_rows"]
    assert manifest["defects"] == {name: round(rate * total) for name, rate in DEFECT_RATES.items()}


def test_the_example_worker_is_in_the_extract_and_in_no_list(demo: tuple[Path, dict[str, Any]]) -> None:
    out, _ = demo
    extract = dict(csv.reader((out / "p3ke.csv").read_text().splitlines()[1:]))
    assert extract[str(EXAMPLE_WORKER["nik"])] == "1"
    assert isinstance(parse_nik(str(EXAMPLE_WORKER["nik"]), reference_date=date(2026, 1, 1)), ParsedNik)
    for path in (out / "nominations").rglob("*.csv"):
        assert str(EXAMPLE_WORKER["nik"]) not in path.read_text()


def test_the_registry_rules_answer_each_defect_as_documented(demo: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = demo
    extract = {nik: int(desil) for nik, desil in csv.reader((out / "p3ke.csv").read_text().splitlines()[1:])}
    codes: Counter[str] = Counter()
    invalid = 0
    for name in manifest["files"]:
        if not name.startswith("nominations/DEMO-SUMUT-2026/"):
            continue
        regency = Path(name).stem
        table = read_upload((out / name).read_bytes(), name)
        assert all(not r.problems for r in table.rows), name  # every cell readable
        assert find_duplicates_in_upload((r.row, r.nik) for r in table.rows if r.nik.isdigit()) == {}
        for r in table.rows:
            f = r.fields
            candidate = NominationInput(
                f["nik"], f["full_name"], f["birth_date"], f["sex"], f["occupation"], regency, f["kecamatan"],
                f["desa"], f["address"], f["phone"], f["sector"], f["decile"], "APBD_PROVINSI",
                date(2026, 1, 1), date(2026, 12, 31),
            )  # fmt: skip
            context = ValidationContext(extract.get(f["nik"]), False, (), None)
            outcome = validate_nomination(candidate, context, POLICY)
            found = {str(x.code) for x in outcome.rejections}
            invalid += "NIK_FORMAT" in found
            codes.update(found)
        assert region_by_code(regency) is not None
    defects = manifest["defects"]
    assert codes["NIK_FORMAT"] + codes["NIK_SUBDISTRICT_ZERO"] == defects["bad_nik"]
    assert codes["NIK_BIRTHDATE_MISMATCH"] == defects["birthdate_mismatch"]
    assert codes["DECILE_NOT_ALLOWED"] == defects["decile_3_4"]
    assert codes["AGE_BELOW_MIN"] + codes["AGE_ABOVE_MAX"] == defects["out_of_age"]
    assert codes["NIK_REGENCY_MISMATCH"] == defects["duplicate_other_regency"]
    assert codes["OCCUPATION_NOT_ALLOWED"] == codes["SEX_INVALID"] == codes["SECTOR_INVALID"] == 0
    # Real places: every kecamatan (NIK and form) is found in its regency.
    assert codes["KECAMATAN_UNKNOWN"] == codes["NIK_KECAMATAN_UNKNOWN"] == codes["NO_SEAT_IN_PROGRAMME"] == 0
    # Only rows with a defective NIK miss the extract.
    assert codes["NOT_IN_P3KE_OR_DTKS"] == codes["NIK_SUBDISTRICT_ZERO"]
    assert invalid == codes["NIK_FORMAT"] > 0


def test_the_funder_duplicates_are_province_rows_of_samosir_again(demo: tuple[Path, dict[str, Any]]) -> None:
    out, manifest = demo
    province = (out / "nominations" / "DEMO-SUMUT-2026" / "12.17.csv").read_text()
    own = read_upload((out / "nominations" / "SAMOSIR-2026" / "12.17.csv").read_bytes())
    again = [r for r in own.rows if r.nik in province]
    assert len(again) == manifest["defects"]["duplicate_other_funder"]
    assert len(own.rows) == 2 * len(again)


def test_a_single_big_list_for_the_rate_measure(tmp_path: Path) -> None:
    listing, extract = generate_single_list(3, 500, "12.05", tmp_path)
    table = read_upload(listing.read_bytes())
    assert len(table.rows) == 500 and {r.fields["sector"] for r in table.rows} == {"sawit"}
    in_extract = {line.split(",")[0] for line in extract.read_text().splitlines()[1:]}
    assert {r.nik for r in table.rows} <= in_extract
