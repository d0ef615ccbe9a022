"""Checks of paid claims: each flag, idempotency, and the order of findings."""

from dataclasses import replace
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.claims.domain.benefits import BenefitKind, Programme
from services.claims.domain.checks import (
    ClaimContext,
    ClaimDecision,
    ClaimReview,
    IncidentCoverage,
    PaidClaim,
    review_claim,
)
from services.claims.domain.flags import FlagCode, message_for
from services.claims.domain.settings_defaults import BENEFIT_RULES_DEFAULTS as RULES

COVERED = IncidentCoverage(covered=True, reason="PREMIUM_PAID")
NIK = "1271014508900001"

JKM_DEATH = PaidClaim(
    claim_id="CLM-001",
    kpj="25011234567",
    nik=NIK,
    programme=Programme.JKM,
    kind=BenefitKind.DEATH,
    incident_date=date(2025, 5, 20),
    paid_date=date(2025, 6, 10),
    amount=42_000_000,
)


def review(
    claim: PaidClaim,
    coverage: IncidentCoverage | None = COVERED,
    earlier: tuple[PaidClaim, ...] = (),
) -> ClaimReview:
    return review_claim(claim, ClaimContext(coverage, earlier), RULES)


def test_a_clean_claim_is_recorded_without_flags() -> None:
    result = review(JKM_DEATH)
    assert (result.decision, result.flags) == (ClaimDecision.RECORD, ())


def test_unknown_participant() -> None:
    result = review(JKM_DEATH, coverage=None)
    assert result.codes == (FlagCode.UNKNOWN_PARTICIPANT,)
    assert result.flags[0].message == message_for(FlagCode.UNKNOWN_PARTICIPANT)
    assert result.flags[0].detail == "KPJ 25011234567 tidak dikenal."


def test_incident_outside_coverage() -> None:
    result = review(JKM_DEATH, coverage=IncidentCoverage(False, "PREMIUM_UNPAID"))
    assert result.codes == (FlagCode.INCIDENT_OUTSIDE_COVERAGE,)
    assert result.flags[0].detail == "Kejadian 2025-05-20: tidak terlindungi (PREMIUM_UNPAID)."


def test_amount_at_the_ceiling_is_fine_and_one_rupiah_above_is_flagged() -> None:
    jkk_death = replace(JKM_DEATH, programme=Programme.JKK, amount=70_000_000)
    assert review(jkk_death).flags == ()
    result = review(replace(jkk_death, amount=70_000_001))
    assert result.codes == (FlagCode.AMOUNT_ABOVE_BENEFIT,)
    assert result.flags[0].detail == "JKK DEATH: dibayar Rp70.000.001, batas Rp70.000.000."


def test_jkm_death_above_42_million_is_flagged() -> None:
    assert review(replace(JKM_DEATH, amount=42_000_001)).codes == (FlagCode.AMOUNT_ABOVE_BENEFIT,)


def test_medical_care_without_a_ceiling_is_never_flagged_for_its_amount() -> None:
    medical = replace(JKM_DEATH, programme=Programme.JKK, kind=BenefitKind.MEDICAL, amount=900_000_000)
    assert review(medical).flags == ()


def test_a_kind_the_programme_does_not_pay_is_flagged() -> None:
    result = review(replace(JKM_DEATH, kind=BenefitKind.MEDICAL, amount=1_000_000))
    assert result.codes == (FlagCode.BENEFIT_NOT_IN_PROGRAMME,)
    assert result.flags[0].detail == "JKM tidak membayar manfaat MEDICAL."


def test_a_second_death_claim_for_the_same_kpj_is_flagged() -> None:
    second = replace(JKM_DEATH, claim_id="CLM-002")
    result = review(second, earlier=(JKM_DEATH,))
    assert result.decision is ClaimDecision.RECORD
    assert result.codes == (FlagCode.DUPLICATE_DEATH_CLAIM,)
    assert result.flags[0].detail == "Klaim kematian lain untuk peserta yang sama: CLM-001."


def test_jkk_death_after_jkm_death_is_the_same_death() -> None:
    jkk = replace(JKM_DEATH, claim_id="CLM-002", programme=Programme.JKK, amount=48_000_000)
    assert review(jkk, earlier=(JKM_DEATH,)).codes == (FlagCode.DUPLICATE_DEATH_CLAIM,)


def test_the_same_nik_under_another_kpj_is_the_same_worker() -> None:
    other_kpj = replace(JKM_DEATH, claim_id="CLM-002", kpj="25019999999")
    assert review(other_kpj, earlier=(JKM_DEATH,)).codes == (FlagCode.DUPLICATE_DEATH_CLAIM,)


def test_death_claims_of_other_workers_and_non_death_claims_do_not_count() -> None:
    stranger = replace(JKM_DEATH, claim_id="CLM-009", kpj="25010000000", nik="1271010101900002")
    funeral = replace(JKM_DEATH, claim_id="CLM-003", kind=BenefitKind.FUNERAL, amount=10_000_000)
    second = replace(JKM_DEATH, claim_id="CLM-002")
    assert review(second, earlier=(stranger, funeral)).flags == ()
    # ...and a funeral claim after a death claim is not a second death.
    assert review(funeral, earlier=(JKM_DEATH,)).flags == ()


def test_the_same_claim_delivered_again_is_a_no_op() -> None:
    result = review(JKM_DEATH, coverage=None, earlier=(JKM_DEATH,))
    assert (result.decision, result.flags) == (ClaimDecision.DUPLICATE_DELIVERY, ())


def test_a_late_redelivery_of_an_older_version_is_a_no_op() -> None:
    corrected = replace(JKM_DEATH, amount=40_000_000)
    result = review(JKM_DEATH, earlier=(JKM_DEATH, corrected))
    assert result.decision is ClaimDecision.DUPLICATE_DELIVERY


def test_the_same_claim_id_with_another_amount_is_recorded_and_flagged() -> None:
    changed = replace(JKM_DEATH, amount=40_000_000)
    result = review(changed, earlier=(JKM_DEATH,))
    assert result.decision is ClaimDecision.RECORD
    assert result.codes == (FlagCode.CLAIM_AMOUNT_CHANGED,)
    assert result.flags[0].detail == "Klaim CLM-001: sebelumnya Rp42.000.000, sekarang Rp40.000.000."


def test_the_amount_is_compared_with_the_latest_version() -> None:
    v2 = replace(JKM_DEATH, amount=40_000_000)
    v3 = replace(JKM_DEATH, amount=41_000_000)
    result = review(v3, earlier=(JKM_DEATH, v2))
    assert result.flags[0].detail == "Klaim CLM-001: sebelumnya Rp40.000.000, sekarang Rp41.000.000."


def test_the_same_claim_id_and_amount_with_other_details_is_flagged() -> None:
    moved = replace(JKM_DEATH, incident_date=date(2025, 4, 30))
    result = review(moved, earlier=(JKM_DEATH,))
    assert result.decision is ClaimDecision.RECORD
    assert result.codes == (FlagCode.CLAIM_DETAILS_CHANGED,)
    assert result.flags[0].detail == "Klaim CLM-001: data berubah (incident_date)."


def test_a_changed_version_of_the_same_claim_is_not_a_second_death() -> None:
    changed = replace(JKM_DEATH, amount=40_000_000)
    assert FlagCode.DUPLICATE_DEATH_CLAIM not in review(changed, earlier=(JKM_DEATH,)).codes


def test_all_findings_come_in_a_fixed_order() -> None:
    earlier_death = replace(JKM_DEATH, claim_id="CLM-000", programme=Programme.JKK)
    previous = replace(JKM_DEATH, amount=1_000)
    claim = replace(JKM_DEATH, amount=50_000_000)
    result = review(claim, IncidentCoverage(False, "AFTER_COVERAGE_END"), (earlier_death, previous))
    assert result.codes == (
        FlagCode.INCIDENT_OUTSIDE_COVERAGE,
        FlagCode.AMOUNT_ABOVE_BENEFIT,
        FlagCode.DUPLICATE_DEATH_CLAIM,
        FlagCode.CLAIM_AMOUNT_CHANGED,
    )


def test_messages_never_contain_the_nik() -> None:
    moved = replace(JKM_DEATH, nik="1271014508900009", amount=99_000_000)
    result = review(moved, coverage=None, earlier=(JKM_DEATH,))
    assert result.flags
    for found in result.flags:
        assert "1271014508900009" not in found.detail
        assert NIK not in found.detail


def test_a_negative_amount_is_refused() -> None:
    with pytest.raises(ValueError):
        replace(JKM_DEATH, amount=-1)


@given(st.integers(min_value=0, max_value=100_000_000))
def test_jkm_death_is_flagged_exactly_above_42_million(amount: int) -> None:
    codes = review(replace(JKM_DEATH, amount=amount)).codes
    assert (FlagCode.AMOUNT_ABOVE_BENEFIT in codes) == (amount > 42_000_000)


# --- coverage from enrollment's facts, claim windows, scholarships, STMB ---------------------------

JKK_MEDICAL = replace(
    JKM_DEATH, claim_id="CLM-100", programme=Programme.JKK, kind=BenefitKind.MEDICAL, amount=1
)


@pytest.mark.parametrize(
    "reason, code",
    [
        ("BEFORE_ENROLLMENT", FlagCode.BEFORE_ENROLLMENT),
        ("IN_LAPSE", FlagCode.IN_LAPSE),
        ("MONTH_NOT_PAID", FlagCode.MONTH_NOT_PAID),
        ("COVERAGE_ENDED", FlagCode.COVERAGE_ENDED),
        ("MEMBERSHIP_ENDED", FlagCode.MEMBERSHIP_ENDED),
        ("BEFORE_COVERAGE_START", FlagCode.INCIDENT_OUTSIDE_COVERAGE),
        ("BETWEEN_COVERAGE_PERIODS", FlagCode.INCIDENT_OUTSIDE_COVERAGE),
    ],
)
def test_each_coverage_reason_has_its_flag(reason: str, code: FlagCode) -> None:
    result = review(JKM_DEATH, coverage=IncidentCoverage(False, reason, "Rincian."))
    assert result.codes == (code,)
    assert result.flags[0].detail == "Rincian."


def test_jkk_claim_paid_on_the_last_day_of_the_window_is_fine_and_a_day_later_is_flagged() -> None:
    on_time = replace(JKK_MEDICAL, incident_date=date(2025, 3, 10), paid_date=date(2027, 3, 10))
    assert review(on_time).flags == ()
    late = replace(on_time, paid_date=date(2027, 3, 11))
    result = review(late)
    assert result.codes == (FlagCode.JKK_CLAIM_WINDOW_PASSED,)
    assert result.flags[0].detail == (
        "Kejadian 2025-03-10, dibayar 2027-03-11: melewati batas 2 tahun (2027-03-10)."
    )


def test_the_jkk_window_is_a_setting() -> None:
    late = replace(JKK_MEDICAL, incident_date=date(2025, 3, 10), paid_date=date(2028, 1, 1))
    five_years = replace(RULES, jkk_claim_window_years=5)
    assert review_claim(late, ClaimContext(COVERED, ()), five_years).flags == ()


def test_jkm_claims_have_no_window() -> None:
    late = replace(JKM_DEATH, paid_date=date(2035, 1, 1))
    assert review(late).flags == ()


SCHOLARSHIP = replace(JKM_DEATH, kind=BenefitKind.SCHOLARSHIP, amount=10_000_000)


def test_jkm_scholarship_before_three_years_of_membership_is_flagged() -> None:
    context = ClaimContext(COVERED, (), membership_start=date(2022, 5, 21))
    result = review_claim(SCHOLARSHIP, context, RULES)  # died 2025-05-20: a day short
    assert result.codes == (FlagCode.SCHOLARSHIP_MEMBERSHIP_TOO_SHORT,)
    assert result.flags[0].detail == (
        "Peserta sejak 2022-05-21, meninggal 2025-05-20: kurang dari 3 tahun (beasiswa mulai 2025-05-21)."
    )
    enough = ClaimContext(COVERED, (), membership_start=date(2022, 5, 20))
    assert review_claim(SCHOLARSHIP, enough, RULES).flags == ()


def test_jkk_scholarship_needs_no_membership_years() -> None:
    jkk = replace(SCHOLARSHIP, programme=Programme.JKK)
    assert review_claim(jkk, ClaimContext(COVERED, (), membership_start=date(2025, 5, 1)), RULES).flags == ()


STMB = replace(
    JKK_MEDICAL,
    kind=BenefitKind.STMB,
    incident_date=date(2025, 1, 1),
    paid_date=date(2025, 1, 30),  # 30 days at 100% of Rp1,000,000 a month
    amount=1_000_000,
)


def test_stmb_at_its_allowance_is_fine_and_above_it_is_flagged() -> None:
    assert review(STMB).flags == ()
    result = review(replace(STMB, amount=1_000_001))
    assert result.codes == (FlagCode.AMOUNT_ABOVE_BENEFIT,)
    assert result.flags[0].detail == (
        "JKK STMB: dibayar Rp1.000.001, batas Rp1.000.000 untuk 2025-01-01 s.d. 2025-01-30."
    )


def test_stmb_pays_half_after_the_first_twelve_months() -> None:
    # 2025-01-01 .. 2026-01-30: 365 days at Rp1,000,000/30, then 30 days at half that.
    long = replace(STMB, paid_date=date(2026, 1, 30))
    allowed = -(-(365 * 1_000_000 + 30 * 500_000) // 30)
    assert review(replace(long, amount=allowed)).flags == ()
    assert review(replace(long, amount=allowed + 1)).codes == (FlagCode.AMOUNT_ABOVE_BENEFIT,)


def test_jkm_pays_no_stmb() -> None:
    assert review(replace(STMB, programme=Programme.JKM)).codes == (FlagCode.BENEFIT_NOT_IN_PROGRAMME,)


def test_jkk_death_bundle_covers_death_funeral_and_periodic() -> None:
    bundle = replace(JKM_DEATH, programme=Programme.JKK, amount=48_000_000 + 10_000_000 + 12_000_000)
    assert review(bundle).flags == ()
    assert review(replace(bundle, amount=bundle.amount + 1)).codes == (FlagCode.AMOUNT_ABOVE_BENEFIT,)
