"""Coverage on a day, from enrollment's events."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from libs.events.catalog import BY_TYPE
from libs.events.contracts.enrollment import PremiumPaid
from libs.events.envelope import Envelope
from lindung_cli.audit.coverage import Enrollment, coverage_on, enrollments_of, ledger_rule
from services.enrollment.domain.coverage import CoveragePolicy
from tests.unit.audit.factories import Log, enrolled, failed, lapsed

ENROLLED_AT = datetime(2026, 1, 10, 2, 0, tzinfo=UTC)  # 09:00 WIB on 10 January


def _log() -> Log:
    log = Log(stream="registration-w1:SUMUT-2026", producer="enrollment")
    log.add(enrolled("w1"), at=ENROLLED_AT)
    return log


@pytest.mark.parametrize(
    ("day", "covered", "reason"),
    [
        (date(2026, 1, 10), True, "IN_COVERAGE_PERIOD"),
        (date(2026, 12, 31), True, "IN_COVERAGE_PERIOD"),
        (date(2026, 1, 9), False, "BEFORE_COVERAGE_START"),  # before BPJS registered the worker
        (date(2027, 1, 1), False, "AFTER_COVERAGE_END"),
    ],
)
def test_the_window_starts_when_bpjs_enrolled_the_worker(day: date, covered: bool, reason: str) -> None:
    verdict = coverage_on(_log().envelopes, "w1", day)
    assert (verdict.covered, verdict.reason) == (covered, reason)
    assert verdict.enrollment is not None and verdict.enrollment.kpj == "KPJ1"


def test_a_lapse_ends_coverage_after_its_last_covered_day() -> None:
    log = _log()
    log.add(lapsed("w1", date(2026, 4, 30)))
    assert coverage_on(log.envelopes, "w1", date(2026, 4, 30)).covered
    verdict = coverage_on(log.envelopes, "w1", date(2026, 5, 1))
    assert (verdict.covered, verdict.reason) == (False, "LAPSED")


@pytest.mark.skipif("CoverageRestored" not in BY_TYPE, reason="no CoverageRestored contract in this build")
def test_a_restoration_of_the_unpaid_month_lifts_the_lapse() -> None:
    log = _log()
    log.add(lapsed("w1", date(2026, 4, 30)))
    restored = {
        "worker_id": "w1",
        "programme_code": "SUMUT-2026",
        "month_paid": "2026-04",
        "restored_from": "2026-04-01",
        "bill_id": "b1",
    }
    log.envelopes.append(
        Envelope(
            event_type="CoverageRestored",
            schema_version=BY_TYPE["CoverageRestored"].schema_version,
            aggregate_id=log.stream,
            aggregate_version=3,
            correlation_id=log.envelopes[0].correlation_id,
            producer="enrollment",
            payload=restored,
        )
    )
    assert coverage_on(log.envelopes, "w1", date(2026, 6, 1)).covered


def test_a_worker_never_enrolled_or_refused_is_not_covered() -> None:
    log = _log()
    log.add(failed("w2"), stream="registration-w2:SUMUT-2026")
    verdict = coverage_on(log.envelopes, "w2", date(2026, 6, 1))
    assert (verdict.covered, verdict.reason, verdict.failed_programmes) == (
        False,
        "NOT_ENROLLED",
        ("SUMUT-2026",),
    )
    assert coverage_on(log.envelopes, "w3", date(2026, 6, 1)).reason == "NOT_ENROLLED"


def test_between_two_programmes_and_the_covering_one_is_named() -> None:
    log = _log()
    log.add(
        enrolled("w1", "SUMUT-2024", date(2024, 1, 1), date(2024, 12, 31), kpj="KPJ0"),
        at=datetime(2024, 1, 5, tzinfo=UTC),
        stream="registration-w1:SUMUT-2024",
    )
    gap = coverage_on(log.envelopes, "w1", date(2025, 6, 1))
    assert (gap.covered, gap.reason) == (False, "BETWEEN_COVERAGE_PERIODS")
    assert gap.enrollment is not None and gap.enrollment.programme_code == "SUMUT-2024"
    earlier = coverage_on(log.envelopes, "w1", date(2024, 3, 1))
    assert earlier.covered and earlier.enrollment is not None and earlier.enrollment.kpj == "KPJ0"


def test_the_rule_passed_in_judges_each_enrollment() -> None:
    seen: list[tuple[str, date]] = []

    def unpaid(enrollment: Enrollment, day: date) -> tuple[bool, str]:
        seen.append((enrollment.programme_code, day))
        return False, "PREMIUM_UNPAID"

    verdict = coverage_on(_log().envelopes, "w1", date(2026, 6, 1), unpaid)
    assert (verdict.covered, verdict.reason) == (False, "PREMIUM_UNPAID")
    assert seen == [("SUMUT-2026", date(2026, 6, 1))]


@pytest.mark.skipif("worker_ids" not in PremiumPaid.model_fields, reason="PremiumPaid names no worker here")
def test_premiums_paid_for_the_worker_are_gathered_for_the_rule() -> None:
    log = _log()
    base = {
        "programme_code": "SUMUT-2026",
        "funder": "APBD_PROVINSI",
        "regency_code": "12.17",
        "jkk_total": 10_000,
        "jkm_total": 6_800,
        "total": 16_800,
        "payment_ref": "R1",
    }
    for month, workers in (("2026-01", ["w1", "w2"]), ("2026-02", ["w2"])):
        paid = {**base, "month": month, "workers": len(workers), "worker_ids": workers}
        log.add(PremiumPaid.model_validate(paid), stream=f"bill-{month}")
    enrollments, _ = enrollments_of(log.envelopes, "w1")
    assert [p.month for p in enrollments[0].payments] == ["2026-01"]


def _paid(log: Log, month: str, worker: str = "w1") -> None:
    line = {
        "programme_code": "SUMUT-2026",
        "funder": "APBD_PROVINSI",
        "regency_code": "12.17",
        "jkk_total": 10_000,
        "jkm_total": 6_800,
        "total": 16_800,
        "payment_ref": f"R{month}",
        "month": month,
        "workers": 1,
        "worker_ids": [worker],
    }
    log.add(PremiumPaid.model_validate(line), stream=f"bill-{month}", at=datetime(2026, 1, 12, tzinfo=UTC))


@pytest.mark.parametrize(
    ("day", "covered", "reason"),
    [
        (date(2026, 1, 20), True, "PREMIUM_PAID"),
        (date(2026, 2, 28), True, "PREMIUM_PAID"),
        (date(2026, 3, 1), False, "PREMIUM_UNPAID"),  # no grace: the first unpaid month is not covered
        (date(2026, 1, 9), False, "BEFORE_COVERAGE_START"),
        (date(2027, 1, 1), False, "AFTER_COVERAGE_END"),
    ],
)
def test_enrollments_own_ledger_judges_the_facts_read_from_the_events(
    day: date, covered: bool, reason: str
) -> None:
    log = _log()
    _paid(log, "2026-01")
    _paid(log, "2026-02")
    rule = ledger_rule(CoveragePolicy(grace_months=0, arrears_months=3), known_at=None)
    verdict = coverage_on(log.envelopes, "w1", day, rule)
    assert (verdict.covered, verdict.reason) == (covered, reason)


def test_a_grace_month_of_enrollments_policy_covers_the_month_after_the_last_paid() -> None:
    log = _log()
    _paid(log, "2026-01")
    rule = ledger_rule(CoveragePolicy(grace_months=1), known_at=None)
    assert coverage_on(log.envelopes, "w1", date(2026, 2, 15), rule).reason == "IN_GRACE"
    assert not coverage_on(log.envelopes, "w1", date(2026, 3, 1), rule).covered


def test_the_ledger_counts_only_what_was_known_at_the_instant_asked() -> None:
    log = _log()
    _paid(log, "2026-01")  # paid on 12 January
    known_before = ledger_rule(CoveragePolicy(grace_months=0), known_at=date(2026, 1, 11))
    known_after = ledger_rule(CoveragePolicy(grace_months=0), known_at=date(2026, 1, 12))
    assert not coverage_on(log.envelopes, "w1", date(2026, 1, 10), known_before).covered
    assert coverage_on(log.envelopes, "w1", date(2026, 1, 10), known_after).covered
