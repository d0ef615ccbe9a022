from datetime import date

import pytest

from services.registry.domain.nik import (
    ParsedNik,
    check_nik_against_stated,
    mask_nik,
    normalize_nik,
    parse_nik,
    parse_sex,
)
from services.registry.domain.reasons import ReasonCode, Rejection
from tests.unit.registry.builders import make_nik

REFERENCE = date(2026, 1, 1)


def _parsed(nik: str, reference: date = REFERENCE) -> ParsedNik:
    result = parse_nik(nik, reference_date=reference)
    assert isinstance(result, ParsedNik), result
    return result


def _codes(nik: str, reference: date = REFERENCE) -> list[ReasonCode]:
    result = parse_nik(nik, reference_date=reference)
    assert isinstance(result, list), result
    return [rejection.code for rejection in result]


def test_a_man_from_medan() -> None:
    assert _parsed("1271051708850042") == ParsedNik(
        nik="1271051708850042",
        province="12",
        regency_code="12.71",
        subdistrict="05",
        birth_date=date(1985, 8, 17),
        sex="L",
        serial="0042",
    )


def test_a_woman_has_forty_added_to_her_birth_day() -> None:
    parsed = _parsed("1217035708850001")
    assert parsed.birth_date == date(1985, 8, 17)
    assert parsed.sex == "P"
    assert parsed.regency_code == "12.17"


def test_spaces_inside_the_nik_are_ignored() -> None:
    assert _parsed(" 1271 0517 0885 0042 ").nik == "1271051708850042"
    assert normalize_nik("1271\t05 17") == "12710517"


@pytest.mark.parametrize(
    ("ddmmyy", "expected"),
    [
        ("170890", date(1990, 8, 17)),
        ("170820", date(2020, 8, 17)),
        ("010126", date(2026, 1, 1)),  # born on the reference date itself
        ("020126", date(1926, 1, 2)),  # one day ahead of it: a century back
        ("311226", date(1926, 12, 31)),
        ("290200", date(2000, 2, 29)),
    ],
)
def test_the_century_is_the_latest_not_after_the_reference_date(ddmmyy: str, expected: date) -> None:
    assert _parsed(f"127105{ddmmyy}0001").birth_date == expected


def test_29_february_falls_back_a_century_only_where_that_year_is_a_leap_year() -> None:
    # Reference 1 Jan 2000: "290200" cannot be 2000 (ahead) nor 1900 (no 29 Feb that year).
    assert _codes("1271052902000001", reference=date(2000, 1, 1)) == [ReasonCode.NIK_BIRTHDATE_INVALID]


@pytest.mark.parametrize(
    "ddmmyy",
    ["000190", "320190", "400190", "720190", "991290", "011390", "010090", "290225", "310490"],
)
def test_impossible_birth_dates_are_rejected(ddmmyy: str) -> None:
    result = parse_nik(f"127105{ddmmyy}0001", reference_date=REFERENCE)
    assert result == [
        Rejection(
            ReasonCode.NIK_BIRTHDATE_INVALID,
            f"Bagian tanggal lahir pada NIK ({ddmmyy}) bukan tanggal yang sah "
            "(untuk perempuan tanggal ditambah 40).",
            {"ddmmyy": ddmmyy},
        )
    ]


@pytest.mark.parametrize("raw", ["", "127105170885004", "12710517088500421", "12710517O8850042"])
def test_anything_but_16_digits_is_a_format_error(raw: str) -> None:
    result = parse_nik(raw, reference_date=REFERENCE)
    assert result == [
        Rejection(
            ReasonCode.NIK_FORMAT,
            f"NIK harus terdiri dari 16 angka (yang diterima: {len(raw)} karakter).",
            {"length": str(len(raw))},
        )
    ]


def test_a_nik_from_another_province() -> None:
    result = parse_nik("3171051708850042", reference_date=REFERENCE)
    assert isinstance(result, list)
    assert [r.code for r in result] == [ReasonCode.NIK_PROVINCE]
    assert result[0].details == {"province": "31"}
    assert result[0].message == "Kode provinsi pada NIK adalah 31, bukan 12 (Sumatera Utara)."


def test_a_bps_only_code_is_an_unknown_regency() -> None:
    # 1279 exists in neither system; 12.26 is past the last kabupaten.
    assert _codes("1279051708850042") == [ReasonCode.NIK_REGENCY_UNKNOWN]
    assert _codes("1226051708850042") == [ReasonCode.NIK_REGENCY_UNKNOWN]


def test_every_structural_fault_is_reported_at_once() -> None:
    assert _codes("1299009908850000") == [
        ReasonCode.NIK_REGENCY_UNKNOWN,
        ReasonCode.NIK_SUBDISTRICT_ZERO,
        ReasonCode.NIK_BIRTHDATE_INVALID,
        ReasonCode.NIK_SERIAL_ZERO,
    ]


def test_stated_data_matching_the_nik_passes() -> None:
    parsed = _parsed(make_nik(birth_date=date(1985, 8, 17), sex="P"))
    assert check_nik_against_stated(parsed, birth_date=date(1985, 8, 17), sex=" p ") == []


def test_stated_birth_date_and_sex_contradicting_the_nik() -> None:
    parsed = _parsed(make_nik(birth_date=date(1985, 8, 17), sex="P"))
    result = check_nik_against_stated(parsed, birth_date=date(1985, 8, 18), sex="L")
    assert [(r.code, r.message) for r in result] == [
        (
            ReasonCode.NIK_BIRTHDATE_MISMATCH,
            "Tanggal lahir yang diisi (18 Agustus 1985) tidak sesuai dengan tanggal lahir "
            "pada NIK (17 Agustus 1985).",
        ),
        (
            ReasonCode.NIK_SEX_MISMATCH,
            "Jenis kelamin yang diisi (laki-laki) tidak sesuai dengan NIK (perempuan).",
        ),
    ]


def test_an_unreadable_stated_sex_is_not_called_a_mismatch() -> None:
    parsed = _parsed(make_nik(sex="P"))
    assert check_nik_against_stated(parsed, birth_date=parsed.birth_date, sex="W") == []


@pytest.mark.parametrize(("raw", "sex"), [("L", "L"), (" p", "P"), ("l ", "L"), ("X", None)])
def test_parse_sex(raw: str, sex: str | None) -> None:
    assert parse_sex(raw) == sex


def test_mask_keeps_the_regency_and_the_last_two_digits() -> None:
    assert mask_nik("1271051708850042") == "1271**********42"
    assert mask_nik("1271 0517 0885 0042") == "1271**********42"


def test_mask_hides_malformed_input_entirely() -> None:
    assert mask_nik("12710517088500") == "**************"
    assert mask_nik("") == ""
