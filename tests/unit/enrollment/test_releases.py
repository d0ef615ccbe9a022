"""Issue 13 rules of enrollment, without I/O: what a release does to a registration, the last
month a programme owes, the end of coverage in the ledger, BPU arrears ending a membership, where
a worker stands, and a month's bill checked against seats and budget."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from libs.events.contracts.bpjs import DeregistrationRequested
from libs.events.contracts.enrollment import CoverageEnded, EnrolledAtBPJS, EnrollmentFailed
from libs.eventstore.kit import Origin
from libs.settings import Settings
from services.enrollment.application.config import config_from
from services.enrollment.domain import registration
from services.enrollment.domain.billing import BillOverLimitError, ProgrammeLimits, check_bill_limits
from services.enrollment.domain.bpjs_request import RequestStatus
from services.enrollment.domain.coverage import (
    CoverageEnd,
    CoverageLedger,
    CoveragePolicy,
    CoverageReason,
    Enrollment,
    MembershipEnd,
    PremiumPayment,
    Standing,
    last_month_billable,
)
from services.enrollment.domain.months import YearMonth
from services.enrollment.domain.release import (
    ReleaseAction,
    deregistration_id_of,
    deregistration_overdue,
    end_events,
    release_action,
)
from tests.unit.enrollment.test_application import (
    CONFIG,
    PROGRAMME,
    REGISTRATION,
    T0,
    WORKER,
    accepted,
    decide,
    rec,
    requested,
)

POLICY = CoveragePolicy(grace_months=0, arrears_months=3)
YEAR = Enrollment(
    enrolled_on=date(2026, 1, 5), coverage_start=date(2026, 1, 1), coverage_end=date(2026, 12, 31)
)


def ym(text: str) -> YearMonth:
    return YearMonth.parse(text)


def paid(*months: str) -> list[PremiumPayment]:
    return [PremiumPayment(ym(m), ym(m).first_day) for m in months]


# --- the last month owed -------------------------------------------------------------------------


def test_a_worker_who_died_on_10_march_is_owed_march_and_never_april() -> None:
    assert last_month_billable(date(2026, 3, 10), ym("2026-01"), ym("2026-12")) == ym("2026-03")
    assert last_month_billable(date(2026, 3, 31), ym("2026-01"), ym("2026-12")) == ym("2026-03")
    assert last_month_billable(date(2026, 4, 1), ym("2026-01"), ym("2026-12")) == ym("2026-04")


def test_an_end_outside_the_window_owes_the_window_or_nothing() -> None:
    assert last_month_billable(date(2025, 12, 20), ym("2026-01"), ym("2026-12")) is None
    assert last_month_billable(date(2027, 2, 1), ym("2026-01"), ym("2026-12")) == ym("2026-12")


# --- what a release does -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "ended", "action"),
    [
        (RequestStatus.ANSWERED, False, ReleaseAction.END),
        (RequestStatus.WAITING, False, ReleaseAction.CANCEL),
        (RequestStatus.REFUSED, False, ReleaseAction.NOTHING),
        (RequestStatus.ANSWERED, True, ReleaseAction.NOTHING),
        (RequestStatus.WAITING, True, ReleaseAction.NOTHING),
    ],
)
def test_a_release_ends_cancels_or_changes_nothing(
    status: RequestStatus, ended: bool, action: ReleaseAction
) -> None:
    assert release_action(status, ended) is action


def test_an_unanswered_stop_payment_is_sent_again_after_the_timeout() -> None:
    timeout = timedelta(seconds=300)
    assert not deregistration_overdue(T0, T0 + timedelta(seconds=299), timeout)
    assert deregistration_overdue(T0, T0 + timedelta(seconds=300), timeout)


def enrolled_event(kpj: str = "KPJ26000000001") -> EnrolledAtBPJS:
    r = requested(1)
    return EnrolledAtBPJS(
        worker_id=WORKER,
        programme_code=PROGRAMME,
        funder=r.funder,
        regency_code=r.regency_code,
        kpj=kpj,
        coverage_start=r.coverage_start,
        coverage_end=r.coverage_end,
        request_id=r.request_id,
        enrolled_on=date(2026, 1, 5),
    )


def test_ending_an_enrolled_worker_records_the_end_and_stops_the_payment() -> None:
    ended, stop = end_events(requested(1), enrolled_event(), "died", date(2026, 3, 10), None)
    assert isinstance(ended, CoverageEnded) and isinstance(stop, DeregistrationRequested)
    assert (ended.ended_on, ended.last_month_billable, ended.reason, ended.kpj) == (
        date(2026, 3, 10),
        "2026-03",
        "died",
        "KPJ26000000001",
    )
    assert stop.request_id == deregistration_id_of(WORKER, PROGRAMME)
    assert (stop.kpj, stop.last_covered_day, stop.attempt, stop.reason) == (
        "KPJ26000000001",
        date(2026, 3, 10),
        1,
        "died",
    )


def test_cancelling_a_waiting_registration_owes_nothing_and_stops_its_retries() -> None:
    (ended,) = end_events(requested(1), None, "withdrawn", date(2026, 1, 6), None)
    assert isinstance(ended, CoverageEnded) and (ended.last_month_billable, ended.kpj) == (None, None)
    history = [rec(requested(1), 1, T0), rec(ended, 2, T0 + timedelta(minutes=1))]
    h = REGISTRATION.fold(history)
    assert h.ended == ended and h.request is not None and h.request.status is RequestStatus.WAITING
    assert h.request.retry_at is None and h.stop is None
    tick = registration.Tick(WORKER, PROGRAMME, T0 + timedelta(days=1), 1.0, Origin.new())
    assert REGISTRATION.decide(tick, h) == []  # no attempt follows a cancellation


def test_a_late_acceptance_of_a_failed_registration_is_ended_and_stopped() -> None:
    failed = EnrollmentFailed(
        worker_id=WORKER,
        programme_code=PROGRAMME,
        regency_code="12.17",
        reason_code="DUKCAPIL_UNAVAILABLE",
        reason="x",
        request_id=f"{WORKER}:{PROGRAMME}",
    )
    h = [rec(requested(1), 1, T0), rec(failed, 2, T0)]
    state = REGISTRATION.fold(h)
    assert state.request is not None and state.request.status is RequestStatus.REFUSED
    events = decide(h, accepted(1, "KPJ26000000009", T0))
    assert [type(e).__name__ for e in events] == [
        "EnrolledAtBPJS",
        "CoverageEnded",
        "DeregistrationRequested",
    ]
    ended = events[1]
    assert isinstance(ended, CoverageEnded)
    assert (ended.reason, ended.last_month_billable) == ("enrollment_failed", None)


# --- the ledger after an end ---------------------------------------------------------------------


def test_no_day_after_the_end_is_covered_and_no_month_after_it_is_due() -> None:
    end = CoverageEnd(date(2026, 3, 10), "died", date(2026, 3, 10))
    ledger = CoverageLedger.from_facts([YEAR, *paid("2026-01", "2026-02", "2026-03", "2026-04"), end])
    assert ledger.is_covered(date(2026, 3, 10), POLICY).covered
    after = ledger.is_covered(date(2026, 3, 11), POLICY)
    assert (after.covered, after.reason) == (False, CoverageReason.COVERAGE_ENDED)
    assert ledger.covered_periods(POLICY) == [(date(2026, 1, 5), date(2026, 3, 10))]
    assert ledger.months_due(date(2026, 6, 1)) == []  # April was paid ahead; May on: never due
    assert ledger.lapse_to_record(date(2026, 6, 1), POLICY) is None
    # Known from the day it was recorded: asked as of before, the day was covered.
    assert ledger.is_covered(date(2026, 3, 11), POLICY, known_at=date(2026, 3, 9)).covered
    # The first end recorded stands.
    later = CoverageEnd(date(2026, 5, 1), "withdrawn", date(2026, 5, 1))
    assert ledger.record(later).end == end


def test_an_end_on_the_last_day_of_the_programme_answers_after_the_end() -> None:
    end = CoverageEnd(date(2026, 12, 31), "withdrawn", date(2026, 12, 31))
    ledger = CoverageLedger.from_facts([YEAR, end])
    assert ledger.is_covered(date(2027, 1, 1), POLICY).reason is CoverageReason.AFTER_COVERAGE_END


# --- BPU arrears ---------------------------------------------------------------------------------


def test_three_unpaid_months_are_arrears_and_a_fourth_ends_the_membership() -> None:
    ledger = CoverageLedger.from_facts([YEAR, *paid("2026-01")])
    assert ledger.membership_end_to_record(date(2026, 4, 30), POLICY) is None  # Feb, Mar, Apr
    assert ledger.membership_end_to_record(date(2026, 5, 1), POLICY) == MembershipEnd(
        (ym("2026-02"), ym("2026-03"), ym("2026-04"), ym("2026-05")), date(2026, 1, 31)
    )
    # Arrears paid in time: nothing ends.
    restored = ledger.record(PremiumPayment(ym("2026-02"), date(2026, 4, 20)))
    assert restored.membership_end_to_record(date(2026, 5, 1), POLICY) is None


def test_a_month_not_yet_due_is_not_unpaid() -> None:
    ledger = CoverageLedger.from_facts([YEAR, *paid("2026-01", "2026-02", "2026-03")])
    # On 31 March, April is not due: nothing lapses, nothing is in arrears.
    assert ledger.months_due(date(2026, 3, 31)) == []
    assert ledger.lapse_to_record(date(2026, 3, 31), POLICY) is None
    assert ledger.standing(date(2026, 3, 31), POLICY) is Standing.COVERED


def test_the_arrears_allowed_are_a_setting() -> None:
    ledger = CoverageLedger.from_facts([YEAR, *paid("2026-01")])
    strict = CoveragePolicy(grace_months=0, arrears_months=1)
    found = ledger.membership_end_to_record(date(2026, 3, 1), strict)
    assert found is not None and found.months_unpaid == (ym("2026-02"), ym("2026-03"))
    with pytest.raises(ValueError):
        CoveragePolicy(grace_months=0, arrears_months=-1)


def test_a_membership_never_paid_for_ends_the_day_before_the_window() -> None:
    ledger = CoverageLedger.from_facts([YEAR])
    found = ledger.membership_end_to_record(date(2026, 4, 1), POLICY)
    assert found is not None and found.ended_on == date(2026, 1, 4)


def test_the_membership_end_is_not_recorded_twice_and_answers_membership_ended() -> None:
    ledger = CoverageLedger.from_facts(
        [YEAR, *paid("2026-01"), CoverageEnd(date(2026, 1, 31), "membership_ended", date(2026, 5, 1))]
    )
    assert ledger.membership_end_to_record(date(2026, 6, 1), POLICY) is None
    assert ledger.is_covered(date(2026, 5, 2), POLICY).reason is CoverageReason.MEMBERSHIP_ENDED
    assert ledger.standing(date(2026, 5, 2), POLICY) is Standing.MEMBERSHIP_ENDED


def test_standing_says_which_it_is() -> None:
    start = CoverageLedger.from_facts([YEAR])
    assert start.standing(date(2026, 1, 6), POLICY) is Standing.AWAITING_PREMIUM
    ledger = start.record(paid("2026-01")[0])
    assert ledger.standing(date(2026, 1, 20), POLICY) is Standing.COVERED
    assert ledger.standing(date(2026, 2, 2), POLICY) is Standing.LAPSED
    grace = CoveragePolicy(grace_months=1, arrears_months=3)
    assert ledger.standing(date(2026, 2, 2), grace) is Standing.IN_ARREARS
    ended = ledger.record(CoverageEnd(date(2026, 1, 20), "withdrawn", date(2026, 1, 20)))
    assert ended.standing(date(2026, 1, 21), POLICY) is Standing.ENDED
    assert CoverageLedger().standing(date(2026, 1, 21), POLICY) is None


def test_months_before_the_first_premium_are_not_arrears() -> None:
    promoted = Enrollment(date(2026, 3, 10), date(2026, 1, 1), date(2026, 12, 31))
    ledger = CoverageLedger.from_facts([promoted, *paid("2026-04")])  # March: the seat's, paid
    assert ledger.standing(date(2026, 4, 15), POLICY) is Standing.COVERED
    assert ledger.is_covered(date(2026, 3, 20), POLICY).reason is CoverageReason.PREMIUM_UNPAID


# --- a month's bill against seats and budget -----------------------------------------------------

LIMITS = ProgrammeLimits(seats=2, budget_cap=12 * 2 * 16_800)


def test_a_month_never_lists_more_workers_than_the_programme_has_seats() -> None:
    check_bill_limits(LIMITS, ym("2026-03"), 2, 0, 2 * 16_800)
    # The worker promoted into the seat of one who died in March, March billed for the seat already.
    with pytest.raises(BillOverLimitError) as refused:
        check_bill_limits(LIMITS, ym("2026-03"), 3, 2 * 2 * 16_800, 16_800)
    assert refused.value.code == "BILL_EXCEEDS_SEATS" and "2 kursi" in refused.value.message


def test_the_programme_never_bills_past_its_budget_cap() -> None:
    check_bill_limits(LIMITS, ym("2026-12"), 2, 11 * 2 * 16_800, 2 * 16_800)  # exactly the cap
    with pytest.raises(BillOverLimitError) as refused:
        check_bill_limits(LIMITS, ym("2026-12"), 2, 11 * 2 * 16_800 + 1, 2 * 16_800)
    assert refused.value.code == "BILL_EXCEEDS_BUDGET" and "Rp403.200" in refused.value.message


def test_the_arrears_setting_reaches_the_coverage_policy() -> None:
    assert CONFIG.coverage.arrears_months == 3  # DOMAIN.md default
    settings = Settings(_env_file=None, enrollment_arrears_months=2)  # type: ignore[call-arg]
    assert config_from(settings).coverage.arrears_months == 2
