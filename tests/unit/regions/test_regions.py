import re

import pytest

from libs.regions import PROVINCE_CODE, Region, all_regions, region_by_bps, region_by_code


def _region(code: str) -> Region:
    region = region_by_code(code)
    assert region is not None, code
    return region


def test_the_table_holds_all_33_regencies_and_cities_of_north_sumatra() -> None:
    regions = all_regions()
    assert len(regions) == 33
    assert sum(r.kind == "kabupaten" for r in regions) == 25
    assert sum(r.kind == "kota" for r in regions) == 8


def test_codes_are_well_formed_and_unique() -> None:
    regions = all_regions()
    assert all(re.fullmatch(r"12\.\d\d", r.kemendagri_code) for r in regions)
    assert all(re.fullmatch(r"12\d\d", r.bps_code) for r in regions)
    assert len({r.kemendagri_code for r in regions}) == 33
    assert len({r.bps_code for r in regions}) == 33
    assert len({r.name for r in regions}) == 33


def test_medan_has_different_kemendagri_and_bps_codes() -> None:
    medan = region_by_code("12.71")
    assert medan == Region("12.71", "1275", "Medan", "kota", "")
    assert region_by_bps("1275") == medan


@pytest.mark.parametrize("code", ["12.71", "1271", " 1271 "])
def test_region_by_code_accepts_the_dotted_and_the_nik_form(code: str) -> None:
    region = region_by_code(code)
    assert region is not None
    assert region.name == "Medan"


def test_a_four_digit_code_is_read_as_kemendagri_never_as_bps() -> None:
    # BPS 1271 is Sibolga and BPS 1275 is Medan: the same digits mean other places.
    assert _region("1271").name == "Medan"
    assert _region("1275").name == "Binjai"
    sibolga = region_by_bps("1271")
    assert sibolga is not None
    assert sibolga.name == "Sibolga"
    assert sibolga.kemendagri_code == "12.73"


@pytest.mark.parametrize("code", ["12.99", "1299", "13.71", "", "12-71", "127", "12.7"])
def test_unknown_or_malformed_codes_find_nothing(code: str) -> None:
    assert region_by_code(code) is None


def test_bps_lookup_does_not_accept_kemendagri_dotted_codes() -> None:
    assert region_by_bps("12.75") is None
    assert region_by_bps("9999") is None


def test_nik_code_and_official_name() -> None:
    samosir = _region("12.17")
    assert samosir.nik_code == "1217"
    assert samosir.official_name == "Kabupaten Samosir"
    assert _region("12.78").official_name == "Kota Gunungsitoli"
    assert all(r.nik_code.startswith(PROVINCE_CODE) for r in all_regions())


def test_notes_come_from_the_table() -> None:
    assert _region("12.04").note == "Nias islands: non-sawit focus 2025"
    assert _region("12.01").note == ""


def test_the_table_is_loaded_once() -> None:
    assert all_regions() is all_regions()


def test_regions_are_immutable() -> None:
    medan = _region("12.71")
    with pytest.raises(AttributeError):
        medan.name = "Deli"  # type: ignore[misc]
