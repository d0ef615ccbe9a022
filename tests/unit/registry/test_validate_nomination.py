from collections.abc import Callable
from datetime import date

import pytest

from services.registry.domain.nik import parse_nik
from services.registry.domain.reasons import ReasonCode, Rejection, placeholders
from services.registry.domain.rules import (
    ExistingNomination,
    PovertySource,
    ValidationOutcome,
    find_duplicates_in_upload,
    validate_nomination,
)
from tests.unit.registry.builders import a_context, a_nomination, a_policy, make_nik

MEDAN_NIK = make_nik(regency="1271")
EARLIER = ExistingNomination(
    "n-1",
    "12.15",
    "DBH Sawit",
    date(2025, 7, 1),
    date(2026, 6, 30),
    "PAKPAK-BHARAT-2025",
    "Bantuan iuran pekerja sawit Pakpak Bharat 2025",
)
# The same, made by the nominating regency (Samosir) itself: its own list, named in full.
EARLIER_OWN = ExistingNomination(
    "n-2",
    "12.17",
    "APBD Kabupaten",
    date(2025, 7, 1),
    date(2026, 6, 30),
    "SAMOSIR-2025",
    "Bantuan iuran pekerja rentan Samosir 2025",
)


def _validate(**nomination: object) -> ValidationOutcome:
    return validate_nomination(a_nomination(**nomination), a_context(), a_policy())


def _codes(outcome: ValidationOutcome) -> list[ReasonCode]:
    return [rejection.code for rejection in outcome.rejections]


def test_a_valid_nomination_is_accepted_through_p3ke() -> None:
    outcome = _validate()
    assert outcome.accepted
    assert outcome.rejections == ()
    assert outcome.poverty_source is PovertySource.P3KE
    assert outcome.parsed_nik is not None
    assert outcome.parsed_nik.regency_code == "12.17"


def test_acceptance_through_dtks_is_recorded_as_such() -> None:
    outcome = validate_nomination(a_nomination(), a_context(p3ke_desil=None, in_dtks=True), a_policy())
    assert outcome.accepted
    assert outcome.poverty_source is PovertySource.DTKS


def test_every_rejection_is_reported_in_the_fixed_order() -> None:
    outcome = validate_nomination(
        a_nomination(
            full_name="",
            birth_date=date(2015, 8, 17),
            sex="P",
            sector="kebun",
            occupation="guru",
        ),
        a_context(
            p3ke_desil=4,
            active_bpjs_kpj="24012345678",
            existing_nominations=(EARLIER_OWN,),
        ),
        a_policy(),
    )
    assert not outcome.accepted
    assert outcome.poverty_source is None
    assert _codes(outcome) == [
        ReasonCode.NAME_MISSING,
        ReasonCode.NIK_BIRTHDATE_MISMATCH,
        ReasonCode.NIK_SEX_MISMATCH,
        ReasonCode.SECTOR_INVALID,
        ReasonCode.OCCUPATION_NOT_ALLOWED,
        ReasonCode.AGE_BELOW_MIN,
        ReasonCode.DECILE_NOT_ALLOWED,
        ReasonCode.ALREADY_BPJS_PARTICIPANT,
        ReasonCode.DUPLICATE_NOMINATION,
    ]
    duplicate = outcome.rejections[-1]
    assert duplicate.message == (
        "NIK sudah diusulkan ke program SAMOSIR-2025 (Bantuan iuran pekerja rentan Samosir 2025) "
        "oleh Kabupaten Samosir (pendanaan APBD Kabupaten) untuk periode 1 Juli 2025 s.d. "
        "30 Juni 2026, dan usulan itu masih berlaku; satu pekerja hanya dibiayai satu program."
    )


def test_another_regencys_nik_is_refused_before_any_rule_about_the_person_runs() -> None:
    """Scope first: what Lindung knows of the person changes nothing in the answer."""
    nomination = a_nomination(nik=MEDAN_NIK, occupation="guru")
    known = a_context(
        p3ke_desil=4, in_dtks=True, active_bpjs_kpj="24012345678", existing_nominations=(EARLIER,)
    )
    unknown = a_context(p3ke_desil=None, in_dtks=False, active_bpjs_kpj=None, existing_nominations=())
    refused = validate_nomination(nomination, known, a_policy())
    assert refused == validate_nomination(nomination, unknown, a_policy())
    assert _codes(refused) == [ReasonCode.NIK_REGENCY_MISMATCH, ReasonCode.OCCUPATION_NOT_ALLOWED]
    assert refused.poverty_source is None


def test_a_malformed_nik_of_another_regency_is_placed_by_its_region_digits() -> None:
    nik = make_nik(regency="1271", serial="0000")
    known = a_context(p3ke_desil=4, active_bpjs_kpj="24012345678", existing_nominations=(EARLIER,))
    outcome = validate_nomination(a_nomination(nik=nik), known, a_policy())
    assert _codes(outcome) == [ReasonCode.NIK_SERIAL_ZERO, ReasonCode.NIK_REGENCY_MISMATCH]
    assert outcome == validate_nomination(a_nomination(nik=nik), a_context(), a_policy())


def test_a_mover_admitted_by_the_programme_is_told_nothing_of_the_persons_data() -> None:
    """Where the programme admits a NIK of another regency, the rules run but their messages
    name no desil, DTKS membership, KPJ, nor the regency, programme or funder holding them."""
    lenient = a_policy(nik_regency_must_match=False)
    known = a_context(
        p3ke_desil=4, in_dtks=False, active_bpjs_kpj="24012345678", existing_nominations=(EARLIER,)
    )
    outcome = validate_nomination(a_nomination(nik=MEDAN_NIK), known, lenient)
    assert _codes(outcome) == [
        ReasonCode.DECILE_NOT_ALLOWED,
        ReasonCode.ALREADY_BPJS_PARTICIPANT,
        ReasonCode.DUPLICATE_NOMINATION,
    ]
    told = " ".join(r.message + " " + " ".join(r.details.values()) for r in outcome.rejections)
    for secret in ("desil 4", "24012345678", "DTKS", "Pakpak", "PAKPAK", "DBH", "n-1"):
        assert secret not in told
    assert [n.code for n in outcome.notes] == [ReasonCode.NIK_ISSUED_ELSEWHERE]


def test_another_regencys_nomination_of_an_own_nik_is_not_named() -> None:
    outcome = validate_nomination(a_nomination(), a_context(existing_nominations=(EARLIER,)), a_policy())
    assert _codes(outcome) == [ReasonCode.DUPLICATE_NOMINATION]
    assert outcome.rejections[0].details == {}
    assert "Pakpak" not in outcome.rejections[0].message and "DBH" not in outcome.rejections[0].message


def test_the_regency_match_is_a_programme_setting() -> None:
    nomination = a_nomination(nik=MEDAN_NIK)
    strict = validate_nomination(nomination, a_context(), a_policy())
    lenient = validate_nomination(nomination, a_context(), a_policy(nik_regency_must_match=False))
    assert _codes(strict) == [ReasonCode.NIK_REGENCY_MISMATCH]
    assert lenient.accepted


def test_a_malformed_nik_skips_the_rules_keyed_on_it() -> None:
    outcome = validate_nomination(
        a_nomination(nik="12170517"),
        a_context(p3ke_desil=None, active_bpjs_kpj="24012345678", existing_nominations=(EARLIER,)),
        a_policy(),
    )
    assert _codes(outcome) == [ReasonCode.NIK_FORMAT]
    assert outcome.parsed_nik is None
    assert outcome.poverty_source is None


def test_a_structurally_wrong_nik_still_gets_the_other_rules() -> None:
    outcome = validate_nomination(
        a_nomination(nik=make_nik(serial="0000")), a_context(p3ke_desil=None), a_policy()
    )
    assert _codes(outcome) == [ReasonCode.NIK_SERIAL_ZERO, ReasonCode.NOT_IN_P3KE_OR_DTKS]
    assert outcome.parsed_nik is None


def test_the_century_is_read_against_coverage_start_not_the_clock() -> None:
    # Born 1 March 1960: 65 on 1 Jan 2026. Were "600301" read as 2060, she would be unborn.
    born = date(1960, 3, 1)
    nik = make_nik(birth_date=born, sex="P")
    outcome = validate_nomination(a_nomination(nik=nik, birth_date=born, sex="P"), a_context(), a_policy())
    assert outcome.accepted
    assert outcome.parsed_nik is not None
    assert outcome.parsed_nik.birth_date == born


def test_validation_is_deterministic() -> None:
    args = (a_nomination(occupation="guru"), a_context(p3ke_desil=9), a_policy())
    assert validate_nomination(*args) == validate_nomination(*args)


# Every reason code, produced at least once by the rule that owns it.
_NIK_FAULTS = "1299009908850000"  # unknown regency, sub-district 00, day 99, serial 0000
SCENARIOS: dict[ReasonCode, Callable[[], list[Rejection]]] = {
    ReasonCode.NIK_FORMAT: lambda: list(_validate(nik="1271-0517").rejections),
    ReasonCode.NIK_PROVINCE: lambda: list(_validate(nik="31" + make_nik()[2:]).rejections),
    ReasonCode.NIK_REGENCY_UNKNOWN: lambda: list(_validate(nik=_NIK_FAULTS).rejections),
    ReasonCode.NIK_SUBDISTRICT_ZERO: lambda: list(_validate(nik=_NIK_FAULTS).rejections),
    ReasonCode.NIK_BIRTHDATE_INVALID: lambda: list(_validate(nik=_NIK_FAULTS).rejections),
    ReasonCode.NIK_SERIAL_ZERO: lambda: list(_validate(nik=_NIK_FAULTS).rejections),
    ReasonCode.NIK_BIRTHDATE_MISMATCH: lambda: list(_validate(birth_date=date(1985, 8, 18)).rejections),
    ReasonCode.NIK_SEX_MISMATCH: lambda: list(_validate(sex="P").rejections),
    ReasonCode.NIK_REGENCY_MISMATCH: lambda: list(_validate(nik=MEDAN_NIK).rejections),
    ReasonCode.NAME_MISSING: lambda: list(_validate(full_name="").rejections),
    ReasonCode.KECAMATAN_MISSING: lambda: list(_validate(kecamatan="").rejections),
    ReasonCode.DESA_MISSING: lambda: list(_validate(desa="").rejections),
    ReasonCode.SEX_INVALID: lambda: list(_validate(sex="X").rejections),
    ReasonCode.SECTOR_INVALID: lambda: list(_validate(sector="tambang").rejections),
    ReasonCode.REGENCY_UNKNOWN: lambda: list(_validate(regency_code="12.30").rejections),
    ReasonCode.PERIOD_INVALID: lambda: list(_validate(period_end=date(2025, 1, 1)).rejections),
    ReasonCode.OCCUPATION_NOT_ALLOWED: lambda: list(_validate(occupation="guru").rejections),
    ReasonCode.AGE_BELOW_MIN: lambda: list(
        _validate(nik=make_nik(birth_date=date(2012, 5, 1)), birth_date=date(2012, 5, 1)).rejections
    ),
    ReasonCode.AGE_ABOVE_MAX: lambda: list(
        _validate(nik=make_nik(birth_date=date(1950, 5, 1)), birth_date=date(1950, 5, 1)).rejections
    ),
    ReasonCode.NOT_IN_P3KE_OR_DTKS: lambda: list(
        validate_nomination(a_nomination(), a_context(p3ke_desil=None), a_policy()).rejections
    ),
    ReasonCode.DECILE_NOT_ALLOWED: lambda: list(
        validate_nomination(a_nomination(), a_context(p3ke_desil=3), a_policy()).rejections
    ),
    ReasonCode.ALREADY_BPJS_PARTICIPANT: lambda: list(
        validate_nomination(a_nomination(), a_context(active_bpjs_kpj="24012345678"), a_policy()).rejections
    ),
    ReasonCode.DUPLICATE_NOMINATION: lambda: list(
        validate_nomination(
            a_nomination(), a_context(existing_nominations=(EARLIER_OWN,)), a_policy()
        ).rejections
    ),
    ReasonCode.DUPLICATE_IN_UPLOAD: lambda: list(
        find_duplicates_in_upload([(1, MEDAN_NIK), (2, MEDAN_NIK)]).values()
    ),
    ReasonCode.REGENCY_OUTSIDE_JURISDICTION: lambda: list(
        validate_nomination(a_nomination(), a_context(), a_policy(jurisdiction="12.10")).rejections
    ),
    ReasonCode.NO_SEAT_IN_PROGRAMME: lambda: list(
        validate_nomination(
            a_nomination(), a_context(), a_policy(seated_cells=frozenset({("12.17", "sawit")}))
        ).rejections
    ),
    ReasonCode.NIK_KECAMATAN_UNKNOWN: lambda: list(_validate(nik=make_nik(subdistrict="10")).rejections),
    ReasonCode.KECAMATAN_UNKNOWN: lambda: list(_validate(kecamatan="Kecamatan Uji").rejections),
    ReasonCode.DESA_UNKNOWN: lambda: list(
        validate_nomination(a_nomination(desa="Desa Uji"), a_context(), a_policy(village_cap=100)).rejections
    ),
    ReasonCode.DTKS_NOT_ACCEPTED: lambda: list(
        validate_nomination(
            a_nomination(), a_context(p3ke_desil=None, in_dtks=True), a_policy(admit_dtks_only=False)
        ).rejections
    ),
    ReasonCode.NIK_ISSUED_ELSEWHERE: lambda: list(
        validate_nomination(
            a_nomination(nik=MEDAN_NIK), a_context(), a_policy(nik_regency_must_match=False)
        ).notes
    ),
}


def test_every_reason_code_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(ReasonCode)


@pytest.mark.parametrize("code", list(ReasonCode))
def test_each_reason_code_is_produced_with_a_complete_message(code: ReasonCode) -> None:
    matching = [rejection for rejection in SCENARIOS[code]() if rejection.code is code]
    assert len(matching) == 1
    rejection = matching[0]
    assert placeholders(code) <= rejection.details.keys()
    assert all(isinstance(value, str) for value in rejection.details.values())
    assert "{" not in rejection.message
    assert "}" not in rejection.message


def test_the_fault_scenarios_are_really_what_they_claim() -> None:
    # Guards the shared NIK above: all four structural faults, nothing else.
    result = parse_nik(_NIK_FAULTS, reference_date=date(2026, 1, 1))
    assert isinstance(result, list)
    assert len(result) == 4
