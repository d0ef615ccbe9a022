from datetime import date

import pytest

from libs.wording import tanggal
from services.registry.domain.reasons import (
    ReasonCode,
    Rejection,
    placeholders,
    reason_table,
    reject,
)

# Codes are stored in events and replayed for years: this list may grow, never change.
STABLE_CODES = [
    "NIK_FORMAT",
    "NIK_PROVINCE",
    "NIK_REGENCY_UNKNOWN",
    "NIK_SUBDISTRICT_ZERO",
    "NIK_BIRTHDATE_INVALID",
    "NIK_SERIAL_ZERO",
    "NIK_BIRTHDATE_MISMATCH",
    "NIK_SEX_MISMATCH",
    "NIK_REGENCY_MISMATCH",
    "NAME_MISSING",
    "KECAMATAN_MISSING",
    "DESA_MISSING",
    "SEX_INVALID",
    "SECTOR_INVALID",
    "REGENCY_UNKNOWN",
    "PERIOD_INVALID",
    "OCCUPATION_NOT_ALLOWED",
    "AGE_BELOW_MIN",
    "AGE_ABOVE_MAX",
    "NOT_IN_P3KE_OR_DTKS",
    "DECILE_NOT_ALLOWED",
    "ALREADY_BPJS_PARTICIPANT",
    "DUPLICATE_NOMINATION",
    "DUPLICATE_IN_UPLOAD",
    "REGENCY_OUTSIDE_JURISDICTION",
    "NO_SEAT_IN_PROGRAMME",
    "NIK_KECAMATAN_UNKNOWN",
    "KECAMATAN_UNKNOWN",
    "DESA_UNKNOWN",
    "DTKS_NOT_ACCEPTED",
    "NIK_ISSUED_ELSEWHERE",
]


def test_codes_are_stable_strings_equal_to_their_names() -> None:
    assert [code.value for code in ReasonCode] == STABLE_CODES
    assert all(code.value == code.name for code in ReasonCode)
    assert ReasonCode("NIK_FORMAT") is ReasonCode.NIK_FORMAT


def test_the_reason_table_lists_every_code_once_with_an_indonesian_message() -> None:
    table = reason_table()
    assert [code for code, _ in table] == list(ReasonCode)
    assert all(template.strip() and template.endswith(".") for _, template in table)
    assert dict(table)[ReasonCode.DUPLICATE_NOMINATION] == (
        "NIK sudah diusulkan ke program {programme_code} ({programme_name}) oleh {regency} "
        "(pendanaan {funder}) untuk periode {period_start} s.d. {period_end}, dan usulan itu masih "
        "berlaku; satu pekerja hanya dibiayai satu program."
    )


def test_reject_fills_the_template_from_the_details() -> None:
    rejection = reject(ReasonCode.ALREADY_BPJS_PARTICIPANT, kpj="24012345678")
    assert rejection == Rejection(
        code=ReasonCode.ALREADY_BPJS_PARTICIPANT,
        message="Pekerja sudah menjadi peserta aktif BPJS Ketenagakerjaan (KPJ 24012345678).",
        details={"kpj": "24012345678"},
    )


def test_a_missing_placeholder_fails_loudly() -> None:
    with pytest.raises(KeyError, match="programme_code"):
        reject(ReasonCode.DUPLICATE_NOMINATION, regency="Kota Medan")


def test_placeholders_of_a_template() -> None:
    assert placeholders(ReasonCode.NIK_SEX_MISMATCH) == {"stated", "from_nik"}
    assert placeholders(ReasonCode.NIK_SERIAL_ZERO) == frozenset()


def test_no_template_asks_for_the_nik_itself() -> None:
    # Messages reach dashboards and exports: the full NIK must never be printed in them.
    assert all("nik" not in placeholders(code) for code in ReasonCode)


def test_rejections_are_immutable() -> None:
    rejection = reject(ReasonCode.NAME_MISSING)
    with pytest.raises(AttributeError):
        rejection.code = ReasonCode.DESA_MISSING  # type: ignore[misc]


@pytest.mark.parametrize(
    ("day", "text"),
    [(date(1945, 8, 17), "17 Agustus 1945"), (date(2026, 1, 1), "1 Januari 2026")],
)
def test_dates_are_written_as_officers_write_them(day: date, text: str) -> None:
    assert tanggal(day) == text
