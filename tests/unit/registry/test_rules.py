from datetime import date

import pytest

from services.registry.domain.nik import ParsedNik, parse_nik
from services.registry.domain.reasons import ReasonCode, Rejection
from services.registry.domain.rules import (
    ExistingNomination,
    PovertySource,
    ValidationPolicy,
    age_on,
    check_age,
    check_bpjs_participation,
    check_duplicates,
    check_nik_regency,
    check_occupation,
    check_period,
    check_poverty,
    check_regency,
    check_required_fields,
    check_sector,
    check_sex,
    find_duplicates_in_upload,
    normalize_occupation,
)
from tests.unit.registry.builders import COVERAGE_START, a_nomination, a_policy, make_nik

YEAR_2026 = (date(2026, 1, 1), date(2026, 12, 31))


def _codes(rejections: list[Rejection]) -> list[ReasonCode]:
    return [rejection.code for rejection in rejections]


# --- age -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth_date", "day", "age"),
    [
        (date(1990, 6, 15), date(2026, 6, 14), 35),
        (date(1990, 6, 15), date(2026, 6, 15), 36),
        (date(2000, 2, 29), date(2015, 2, 28), 14),
        (date(2000, 2, 29), date(2015, 3, 1), 15),
    ],
)
def test_age_on_counts_whole_years(birth_date: date, day: date, age: int) -> None:
    assert age_on(birth_date, day) == age


def test_age_limits_are_inclusive_at_coverage_start() -> None:
    policy = a_policy()  # 15 to 65 on 1 January 2026
    assert check_age(date(2011, 1, 1), policy) == []  # 15th birthday that very day
    assert check_age(date(1960, 1, 2), policy) == []  # 65, turning 66 the next day


def test_one_day_too_young() -> None:
    assert check_age(date(2011, 1, 2), a_policy()) == [
        Rejection(
            ReasonCode.AGE_BELOW_MIN,
            "Usia 14 tahun pada awal kepesertaan (1 Januari 2026) di bawah batas minimal 15 tahun.",
            {"age": "14", "coverage_start": "1 Januari 2026", "age_min": "15"},
        )
    ]


def test_one_day_too_old() -> None:
    result = check_age(date(1960, 1, 1), a_policy())
    assert _codes(result) == [ReasonCode.AGE_ABOVE_MAX]
    assert result[0].details["age"] == "66"
    assert result[0].message.endswith("di atas batas maksimal 65 tahun.")


def test_age_limits_come_from_the_policy() -> None:
    assert _codes(check_age(date(2008, 6, 1), a_policy(age_min=18))) == [ReasonCode.AGE_BELOW_MIN]
    assert check_age(date(2008, 6, 1), a_policy(age_min=17)) == []


def test_a_policy_with_limits_the_wrong_way_round_is_refused() -> None:
    with pytest.raises(ValueError, match="age_min"):
        a_policy(age_min=66, age_max=65)


# --- poverty ---------------------------------------------------------------------------------


def test_p3ke_at_an_allowed_desil_decides_first() -> None:
    decision = check_poverty(2, in_dtks=True, policy=a_policy())
    assert decision.source is PovertySource.P3KE
    assert decision.rejections == []


def test_dtks_admits_a_worker_ranked_too_high_in_p3ke_or_absent_from_it() -> None:
    assert check_poverty(5, in_dtks=True, policy=a_policy()).source is PovertySource.DTKS
    assert check_poverty(None, in_dtks=True, policy=a_policy()).source is PovertySource.DTKS


def test_p3ke_desil_outside_the_programme_and_not_in_dtks() -> None:
    decision = check_poverty(3, in_dtks=False, policy=a_policy())
    assert decision.source is None
    assert decision.rejections == [
        Rejection(
            ReasonCode.DECILE_NOT_ALLOWED,
            "NIK tercatat di P3KE pada desil 3, di luar desil program (1, 2), dan tidak terdaftar di DTKS.",
            {"desil": "3", "allowed_deciles": "1, 2"},
        )
    ]


def test_in_neither_data_set() -> None:
    decision = check_poverty(None, in_dtks=False, policy=a_policy())
    assert decision.source is None
    assert _codes(decision.rejections) == [ReasonCode.NOT_IN_P3KE_OR_DTKS]
    assert decision.rejections[0].message == "NIK tidak ditemukan di data P3KE maupun DTKS."


def test_allowed_deciles_come_from_the_policy() -> None:
    policy = a_policy(allowed_deciles=frozenset({1, 2, 3}))
    assert check_poverty(3, in_dtks=False, policy=policy).source is PovertySource.P3KE


# --- duplicates ------------------------------------------------------------------------------


def _existing(
    nomination_id: str, regency_code: str, funder: str, start: date, end: date
) -> ExistingNomination:
    code = f"P-{nomination_id}"
    return ExistingNomination(nomination_id, regency_code, funder, start, end, code, f"Program {code}")


def test_no_earlier_nomination_no_duplicate() -> None:
    assert check_duplicates(*YEAR_2026, [], "12.10") == []


def test_periods_that_only_touch_do_not_overlap() -> None:
    last_year = _existing("n-1", "12.10", "APBD Provinsi", date(2025, 1, 1), date(2025, 12, 31))
    assert check_duplicates(*YEAR_2026, [last_year], "12.10") == []


def test_sharing_a_single_day_is_an_overlap() -> None:
    ends_on_new_year = _existing("n-1", "12.10", "APBD Provinsi", date(2025, 1, 2), YEAR_2026[0])
    assert _codes(check_duplicates(*YEAR_2026, [ends_on_new_year], "12.10")) == [
        ReasonCode.DUPLICATE_NOMINATION
    ]


def test_a_duplicate_names_the_first_overlapping_nomination_whoever_funds_it() -> None:
    existing = [
        _existing("n-0", "12.71", "APBD Provinsi", date(2024, 1, 1), date(2024, 12, 31)),
        _existing("n-1", "12.10", "DBH Sawit", date(2026, 3, 1), date(2027, 2, 28)),
        _existing("n-2", "12.71", "APBD Provinsi", date(2026, 1, 1), date(2026, 12, 31)),
    ]
    assert check_duplicates(*YEAR_2026, existing, "12.10") == [
        Rejection(
            ReasonCode.DUPLICATE_NOMINATION,
            "NIK sudah diusulkan ke program P-n-1 (Program P-n-1) oleh Kabupaten Labuhanbatu "
            "(pendanaan DBH Sawit) untuk periode 1 Maret 2026 s.d. 28 Februari 2027, dan usulan "
            "itu masih berlaku; satu pekerja hanya dibiayai satu program.",
            {
                "programme_code": "P-n-1",
                "programme_name": "Program P-n-1",
                "regency": "Kabupaten Labuhanbatu",
                "funder": "DBH Sawit",
                "period_start": "1 Maret 2026",
                "period_end": "28 Februari 2027",
                "nomination_id": "n-1",
                "regency_code": "12.10",
                "overlapping_count": "2",
            },
        )
    ]


def test_a_duplicate_from_an_unknown_regency_code_shows_the_code() -> None:
    existing = [_existing("n-9", "12.99", "APBD Kabupaten", *YEAR_2026)]
    assert check_duplicates(*YEAR_2026, existing, "12.99")[0].details["regency"] == "12.99"


def test_repeated_niks_in_one_upload_point_to_the_first_row() -> None:
    nik_a, nik_b = make_nik(serial="0001"), make_nik(serial="0002")
    rows = [
        (2, nik_a),
        (3, nik_b),
        (4, f" {nik_a[:8]} {nik_a[8:]}"),
        (5, ""),
        (6, "  "),
        (7, nik_a),
    ]
    repeats = find_duplicates_in_upload(rows)
    assert sorted(repeats) == [4, 7]
    assert repeats[4] == Rejection(
        ReasonCode.DUPLICATE_IN_UPLOAD,
        "NIK ini sudah ada di baris 2 pada berkas unggahan yang sama.",
        {"first_row": "2"},
    )
    assert repeats[7].details == {"first_row": "2"}


# --- BPJS, occupation, regency, fields -------------------------------------------------------


def test_an_active_bpjs_participant_needs_no_assistance() -> None:
    assert check_bpjs_participation(None) == []
    assert check_bpjs_participation("24012345678") == [
        Rejection(
            ReasonCode.ALREADY_BPJS_PARTICIPANT,
            "Pekerja sudah menjadi peserta aktif BPJS Ketenagakerjaan (KPJ 24012345678).",
            {"kpj": "24012345678"},
        )
    ]


@pytest.mark.parametrize("occupation", ["tukang becak", "  Tukang   BECAK ", "Nelayan", "LAINNYA"])
def test_occupations_match_regardless_of_case_and_spacing(occupation: str) -> None:
    assert check_occupation(occupation, a_policy()) == []


def test_the_policy_list_is_normalised_too() -> None:
    policy = a_policy(occupations=frozenset({"Juru  Parkir"}))
    assert check_occupation("juru parkir", policy) == []


def test_an_occupation_not_on_the_list() -> None:
    assert check_occupation(" pegawai negeri ", a_policy()) == [
        Rejection(
            ReasonCode.OCCUPATION_NOT_ALLOWED,
            "Pekerjaan 'pegawai negeri' tidak termasuk daftar pekerjaan program ini.",
            {"occupation": "pegawai negeri"},
        )
    ]


def test_normalize_occupation() -> None:
    assert normalize_occupation("\tPedagang  Kaki\nLima ") == "pedagang kaki lima"


def _parsed(nik: str) -> ParsedNik:
    parsed = parse_nik(nik, reference_date=COVERAGE_START)
    assert isinstance(parsed, ParsedNik)
    return parsed


def test_a_nik_issued_in_the_nominating_regency() -> None:
    parsed = _parsed(make_nik(regency="1217"))
    assert check_nik_regency(parsed, "12.17") == []
    assert check_nik_regency(parsed, "1217") == []


def test_a_nik_issued_in_another_regency() -> None:
    assert check_nik_regency(_parsed(make_nik(regency="1271")), "12.17") == [
        Rejection(
            ReasonCode.NIK_REGENCY_MISMATCH,
            "NIK diterbitkan di Kota Medan, sedangkan pengusul adalah Kabupaten Samosir; "
            "pekerja hanya dapat diusulkan oleh kabupaten/kota sesuai NIK.",
            {"nik_regency": "Kota Medan", "nominating_regency": "Kabupaten Samosir"},
        )
    ]


def test_an_unknown_nominating_regency_is_not_also_a_mismatch() -> None:
    assert check_nik_regency(_parsed(make_nik()), "12.99") == []
    assert check_regency("12.99") == [
        Rejection(
            ReasonCode.REGENCY_UNKNOWN,
            "Kode kabupaten/kota pengusul (12.99) tidak dikenal di Sumatera Utara.",
            {"regency_code": "12.99"},
        )
    ]


def test_known_nominating_regencies() -> None:
    assert check_regency("12.71") == []
    assert check_regency("1271") == []
    assert _codes(check_regency("1299")) == [ReasonCode.REGENCY_UNKNOWN]


def test_required_fields() -> None:
    assert check_required_fields(a_nomination()) == []
    blank = a_nomination(full_name=" ", kecamatan="", desa="\t")
    assert [(r.code, r.message) for r in check_required_fields(blank)] == [
        (ReasonCode.NAME_MISSING, "Nama lengkap wajib diisi."),
        (ReasonCode.KECAMATAN_MISSING, "Kecamatan wajib diisi."),
        (ReasonCode.DESA_MISSING, "Desa/kelurahan wajib diisi."),
    ]


@pytest.mark.parametrize("sex", ["L", "P", " p "])
def test_valid_sex(sex: str) -> None:
    assert check_sex(sex) == []


def test_invalid_sex() -> None:
    assert check_sex("Laki") == [
        Rejection(
            ReasonCode.SEX_INVALID,
            "Jenis kelamin 'Laki' tidak dikenal; isi L (laki-laki) atau P (perempuan).",
            {"sex": "Laki"},
        )
    ]


@pytest.mark.parametrize("sector", ["sawit", "non_sawit", " Sawit "])
def test_valid_sectors(sector: str) -> None:
    assert check_sector(sector) == []


def test_invalid_sector() -> None:
    assert check_sector("perikanan") == [
        Rejection(
            ReasonCode.SECTOR_INVALID,
            "Sektor 'perikanan' tidak dikenal; isi 'sawit' atau 'non_sawit'.",
            {"sector": "perikanan"},
        )
    ]


def test_period() -> None:
    assert check_period(date(2026, 1, 1), date(2026, 1, 1)) == []
    assert check_period(date(2026, 1, 1), date(2025, 12, 31)) == [
        Rejection(
            ReasonCode.PERIOD_INVALID,
            "Periode program tidak sah: tanggal akhir 31 Desember 2025 sebelum tanggal awal 1 Januari 2026.",
            {"period_start": "1 Januari 2026", "period_end": "31 Desember 2025"},
        )
    ]


def test_policy_is_a_frozen_value() -> None:
    policy: ValidationPolicy = a_policy()
    with pytest.raises(AttributeError):
        policy.age_min = 10  # type: ignore[misc]
