"""Issue 13, items 4 and 8: what can never be covered is refused at the door, and the programme's
own rules (DTKS admission, NIK regency, occupations, villages) come from its settings."""

from __future__ import annotations

import pytest

from services.registry.domain.reasons import ReasonCode
from services.registry.domain.rules import (
    PovertySource,
    ValidationOutcome,
    check_occupation,
    validate_nomination,
)
from tests.unit.registry.builders import a_context, a_nomination, a_policy, make_nik

SAMOSIR_ONLY = {"jurisdiction": "12.17", "seated_cells": frozenset({("12.17", "non_sawit")})}


def _codes(outcome: ValidationOutcome) -> list[ReasonCode]:
    return [r.code for r in outcome.rejections]


def _decide(nomination: dict[str, object] | None = None, **policy: object) -> ValidationOutcome:
    return validate_nomination(a_nomination(**(nomination or {})), a_context(), a_policy(**policy))


# --- jurisdiction and seats ------------------------------------------------------------------


def test_a_regency_programme_takes_only_its_own_regency() -> None:
    medan = {"regency_code": "12.71", "nik": make_nik(regency="1271"), "kecamatan": "Medan Kota"}
    outcome = _decide(medan, **SAMOSIR_ONLY)

    assert _codes(outcome) == [ReasonCode.REGENCY_OUTSIDE_JURISDICTION]  # no NO_SEAT on top
    assert outcome.rejections[0].message == (
        "Kota Medan berada di luar wilayah program ini (Kabupaten Samosir); usulan tidak dapat diterima."
    )
    assert _decide(**SAMOSIR_ONLY).accepted
    assert _decide(medan, jurisdiction="12").accepted  # the province's programme: every regency


def test_a_regency_and_sector_without_seats_is_refused() -> None:
    outcome = _decide({"sector": "sawit"}, **SAMOSIR_ONLY)

    assert _codes(outcome) == [ReasonCode.NO_SEAT_IN_PROGRAMME]
    assert outcome.rejections[0].message == (
        "Program ini tidak menyediakan kuota untuk Kabupaten Samosir sektor sawit; "
        "pekerja ini tidak akan pernah mendapat kursi."
    )
    assert outcome.rejections[0].details["regency_code"] == "12.17"


def test_an_invalid_sector_is_not_also_reported_as_seatless() -> None:
    assert _codes(_decide({"sector": "tambang"}, **SAMOSIR_ONLY)) == [ReasonCode.SECTOR_INVALID]


# --- kecamatan and desa ----------------------------------------------------------------------


def test_the_nik_kecamatan_must_exist_in_the_regency_that_issued_it() -> None:
    # Samosir has 9 kecamatan (12.17.01 to 12.17.09).
    outcome = _decide({"nik": make_nik(subdistrict="10")})
    assert _codes(outcome) == [ReasonCode.NIK_KECAMATAN_UNKNOWN]
    assert (
        "12.17.10" in outcome.rejections[0].message and "Kabupaten Samosir" in outcome.rejections[0].message
    )
    assert _decide({"nik": make_nik(subdistrict="09")}).accepted


@pytest.mark.parametrize("written", ["Pangururan", "PANGURURAN", "Kec. Pangururan", "kecamatan pangururan"])
def test_the_form_kecamatan_matches_leniently(written: str) -> None:
    assert _decide({"kecamatan": written}).accepted


def test_a_form_kecamatan_that_is_not_in_the_regency_is_refused_with_the_list() -> None:
    outcome = _decide({"kecamatan": "Medan Kota"})
    assert _codes(outcome) == [ReasonCode.KECAMATAN_UNKNOWN]
    assert outcome.rejections[0].message.startswith(
        "Kecamatan 'Medan Kota' tidak ditemukan di Kabupaten Samosir. Kecamatan yang ada: Simanindo, "
    )


def test_the_desa_code_is_found_in_the_kecamatan_of_the_form() -> None:
    outcome = _decide({"kecamatan": "Simanindo", "desa": "Desa Tomok"})
    assert outcome.accepted and outcome.desa_code == "12.17.01.2001"


def test_an_unknown_desa_is_refused_only_where_seats_are_capped_per_village() -> None:
    assert _decide({"desa": "Desa Uji"}).accepted
    assert _decide({"desa": "Desa Uji"}).desa_code is None
    capped = _decide({"desa": "Desa Uji"}, village_cap=100)
    assert _codes(capped) == [ReasonCode.DESA_UNKNOWN]
    assert "Kecamatan Pangururan" in capped.rejections[0].message


def test_labuhanbatu_villages_are_known_by_code() -> None:
    nomination = {
        "regency_code": "12.10",
        "nik": make_nik(regency="1210", subdistrict="01"),
        "kecamatan": "Rantau Utara",
        "desa": "Kelurahan Padang Matinggi",
        "sector": "sawit",
    }
    outcome = _decide(nomination, jurisdiction="12.10", village_cap=100)
    assert outcome.accepted and outcome.desa_code is not None and outcome.desa_code.startswith("12.10.")


# --- poverty: DTKS admission is a programme setting ------------------------------------------


def test_dtks_alone_admits_only_where_the_programme_says_so() -> None:
    dtks_only = a_context(p3ke_desil=None, in_dtks=True)
    lenient = validate_nomination(a_nomination(), dtks_only, a_policy(admit_dtks_only=True))
    strict = validate_nomination(a_nomination(), dtks_only, a_policy(admit_dtks_only=False))

    assert lenient.accepted and lenient.poverty_source is PovertySource.DTKS
    assert _codes(strict) == [ReasonCode.DTKS_NOT_ACCEPTED]
    assert strict.rejections[0].message == (
        "NIK tercatat di DTKS, tetapi program ini hanya menerima pekerja P3KE desil 1, 2 "
        "(NIK ini: tidak terdaftar di P3KE)."
    )


def test_p3ke_outside_the_deciles_and_in_dtks_under_a_p3ke_only_programme() -> None:
    outcome = validate_nomination(
        a_nomination(), a_context(p3ke_desil=4, in_dtks=True), a_policy(admit_dtks_only=False)
    )
    assert _codes(outcome) == [ReasonCode.DTKS_NOT_ACCEPTED]
    assert outcome.rejections[0].details["p3ke"] == "desil 4"


@pytest.mark.parametrize("stated", [None, 1, 9])
def test_the_officers_desil_decides_nothing(stated: int | None) -> None:
    outcome = validate_nomination(a_nomination(desil=stated), a_context(p3ke_desil=2), a_policy())
    assert outcome.accepted and outcome.poverty_source is PovertySource.P3KE
    refused = validate_nomination(a_nomination(desil=stated), a_context(p3ke_desil=3), a_policy())
    assert _codes(refused) == [ReasonCode.DECILE_NOT_ALLOWED]


# --- a NIK issued in another regency ---------------------------------------------------------


def test_a_nik_issued_elsewhere_is_accepted_with_a_note_by_default() -> None:
    moved = {"nik": make_nik(regency="1204", subdistrict="06")}  # issued in Gido (Nias), lives in Samosir
    outcome = _decide(moved, nik_regency_must_match=False)

    assert outcome.accepted
    assert [n.code for n in outcome.notes] == [ReasonCode.NIK_ISSUED_ELSEWHERE]
    assert outcome.notes[0].message.startswith(
        "Catatan: NIK diterbitkan di Kabupaten Nias, sedangkan pengusul adalah Kabupaten Samosir."
    )
    strict = _decide(moved, nik_regency_must_match=True)
    assert _codes(strict) == [ReasonCode.NIK_REGENCY_MISMATCH] and strict.notes == ()


def test_no_note_for_a_nik_of_the_nominating_regency() -> None:
    assert _decide(nik_regency_must_match=False).notes == ()


# --- occupations as officers write them ------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "pedagang", "buruh harian", "pedagang kaki lima", "buruh harian lepas", "tukang becak",
        "juru parkir", "pekerja sawit", "PKL", "Supir", "jukir", "Buruh Harian-Lepas", "BHL",
        "penarik becak", "betor", "pedagang sayur keliling", "buruh sawit", "petani sawit", "tani",
        "Nelayan tradisional", "guru ngaji", "Pemulung", "lain-lain",
    ],
)  # fmt: skip
def test_the_seeds_words_match_the_default_list(written: str) -> None:
    assert check_occupation(written, a_policy()) == []


@pytest.mark.parametrize("written", ["pegawai negeri", "buruh pabrik", "guru", "", "pedagangan"])
def test_other_work_is_still_refused(written: str) -> None:
    assert [r.code for r in check_occupation(written, a_policy())] == [ReasonCode.OCCUPATION_NOT_ALLOWED]


def test_a_short_list_matches_by_kind_of_work() -> None:
    farmers = a_policy(occupations=frozenset({"petani"}))
    assert check_occupation("petani sawit", farmers) == []  # a farmer, of palm oil
    assert check_occupation("pekerja sawit", farmers) != []
    traders = a_policy(occupations=frozenset({"Pedagang Keliling"}))
    assert check_occupation("PKL", traders) == []
    own_word = a_policy(occupations=frozenset({"Penenun Ulos"}))
    assert check_occupation("penenun-ulos", own_word) == []
