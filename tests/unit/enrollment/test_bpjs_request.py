"""A request to BPJS (a registration, a premium payment): transitions, retries, duplicates and
out-of-order answers."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.enrollment.domain.bpjs_request import (
    Answered,
    Outcome,
    Refused,
    Request,
    RequestStatus,
    RetryPolicy,
    apply_result,
    backoff_seconds,
    begin_retry,
    is_terminal,
    next_retry_at,
    retry_due,
)
from services.enrollment.domain.settings_defaults import REGISTRATION_RETRY_DEFAULTS

RETRY = RetryPolicy(max_attempts=3, base_seconds=60, max_seconds=600)
NOW = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
KPJ = "25011234567"


def accepted(attempt: int, kpj: str = KPJ) -> Answered:
    return Answered(attempt=attempt, answer=kpj)


def timeout(attempt: int) -> Refused:
    return Refused(attempt, "TIMEOUT", "no answer from BPJS", retryable=True)


def refused(attempt: int) -> Refused:
    return Refused(attempt, "NIK_NOT_FOUND", "NIK tidak ditemukan", retryable=False)


def apply(request: Request, result: Answered | Refused) -> tuple[Request, Outcome]:
    change = apply_result(request, result, RETRY, NOW, jitter=1.0)
    return change.request, change.outcome


NEW = Request()


def retried_once() -> Request:
    """Attempt 1 timed out; attempt 2 is in flight."""
    waiting, _ = apply(NEW, timeout(1))
    return begin_retry(waiting)


# --- the happy paths ------------------------------------------------------------------------


def test_a_new_registration_has_its_first_attempt_in_flight() -> None:
    assert Request(attempt=1, status=RequestStatus.WAITING) == NEW
    assert is_terminal(NEW) is False


def test_acceptance_enrolls_with_the_kpj() -> None:
    enrolled, outcome = apply(NEW, accepted(1))
    assert outcome is Outcome.APPLIED
    assert enrolled.status is RequestStatus.ANSWERED
    assert enrolled.answer == KPJ
    assert is_terminal(enrolled) is True


def test_final_rejection_fails_with_the_reason() -> None:
    failed, outcome = apply(NEW, refused(1))
    assert outcome is Outcome.APPLIED
    assert failed.status is RequestStatus.REFUSED
    assert failed.refusal == "NIK tidak ditemukan"
    assert is_terminal(failed) is True


# --- retries ---------------------------------------------------------------------------------


def test_retryable_rejection_schedules_the_next_attempt_with_backoff() -> None:
    waiting, outcome = apply(NEW, timeout(1))
    assert outcome is Outcome.APPLIED
    assert waiting.status is RequestStatus.WAITING
    assert waiting.attempt == 1
    assert waiting.retry_at == NOW + timedelta(seconds=60)
    assert retry_due(waiting, NOW + timedelta(seconds=59)) is False
    assert retry_due(waiting, NOW + timedelta(seconds=60)) is True


def test_begin_retry_moves_to_the_next_attempt() -> None:
    in_flight = retried_once()
    assert (in_flight.attempt, in_flight.retry_at) == (2, None)
    assert retry_due(in_flight, NOW + timedelta(days=1)) is False
    with pytest.raises(ValueError):
        begin_retry(in_flight)


def test_second_retry_waits_twice_as_long() -> None:
    waiting, _ = apply(retried_once(), timeout(2))
    assert waiting.retry_at == NOW + timedelta(seconds=120)


def test_retries_stop_after_max_attempts() -> None:
    waiting, _ = apply(retried_once(), timeout(2))
    third = begin_retry(waiting)
    failed, outcome = apply(third, timeout(3))
    assert outcome is Outcome.APPLIED
    assert failed.status is RequestStatus.REFUSED
    assert (failed.attempt, failed.refusal) == (3, "no answer from BPJS")


# --- duplicates and out-of-order results -----------------------------------------------------


def test_the_same_acceptance_twice_is_a_duplicate() -> None:
    enrolled, _ = apply(NEW, accepted(1))
    again, outcome = apply(enrolled, accepted(1))
    assert (again, outcome) == (enrolled, Outcome.DUPLICATE)


def test_the_same_rejection_twice_is_a_duplicate() -> None:
    waiting, _ = apply(NEW, timeout(1))
    assert apply(waiting, timeout(1)) == (waiting, Outcome.DUPLICATE)
    failed, _ = apply(NEW, refused(1))
    assert apply(failed, refused(1)) == (failed, Outcome.DUPLICATE)


def test_a_rejection_after_enrollment_does_not_undo_it() -> None:
    enrolled, _ = apply(retried_once(), accepted(2))
    for late in (refused(1), refused(2), timeout(2)):
        assert apply(enrolled, late) == (enrolled, Outcome.STALE)


def test_a_rejection_for_an_older_attempt_is_stale() -> None:
    in_flight = retried_once()
    assert apply(in_flight, refused(1)) == (in_flight, Outcome.STALE)


def test_a_late_acceptance_of_an_older_attempt_still_enrolls() -> None:
    # Attempt 1 timed out on our side but BPJS did register the worker.
    enrolled, outcome = apply(retried_once(), accepted(1))
    assert outcome is Outcome.APPLIED
    assert (enrolled.status, enrolled.answer) == (RequestStatus.ANSWERED, KPJ)


def test_an_acceptance_while_a_retry_waits_enrolls_and_cancels_the_retry() -> None:
    waiting, _ = apply(NEW, timeout(1))
    enrolled, _ = apply(waiting, accepted(1))
    assert (enrolled.status, enrolled.retry_at) == (RequestStatus.ANSWERED, None)


def test_a_late_acceptance_after_failure_enrolls() -> None:
    failed, _ = apply(NEW, refused(1))
    enrolled, outcome = apply(failed, accepted(1))
    assert outcome is Outcome.APPLIED
    assert (enrolled.status, enrolled.answer, enrolled.refusal) == (
        RequestStatus.ANSWERED,
        KPJ,
        None,
    )


def test_an_acceptance_with_another_kpj_keeps_the_first() -> None:
    enrolled, _ = apply(NEW, accepted(1))
    assert apply(enrolled, accepted(1, kpj="99999999999")) == (enrolled, Outcome.CONFLICT)


@pytest.mark.parametrize("attempt", [0, 2, 7])
def test_a_result_for_an_attempt_never_sent_is_ignored(attempt: int) -> None:
    assert apply(NEW, accepted(attempt)) == (NEW, Outcome.UNKNOWN_ATTEMPT)
    assert apply(NEW, refused(attempt)) == (NEW, Outcome.UNKNOWN_ATTEMPT)


@given(st.lists(st.tuples(st.booleans(), st.integers(min_value=1, max_value=3), st.booleans()), max_size=12))
def test_once_enrolled_no_sequence_of_results_unenrolls(
    results: list[tuple[bool, int, bool]],
) -> None:
    request, _ = apply(retried_once(), accepted(2))
    for is_acceptance, attempt, retryable in results:
        result: Answered | Refused = (
            accepted(attempt) if is_acceptance else Refused(attempt, "OTHER", "x", retryable)
        )
        request, _ = apply(request, result)
        assert (request.status, request.answer) == (RequestStatus.ANSWERED, KPJ)


# --- backoff schedule -----------------------------------------------------------------------


def test_plain_schedule_doubles_up_to_the_cap() -> None:
    delays = [backoff_seconds(n, base_seconds=60, max_seconds=600, jitter=1.0) for n in range(1, 7)]
    assert delays == [60, 120, 240, 480, 600, 600]


def test_jitter_spreads_the_wait_over_the_upper_half() -> None:
    assert backoff_seconds(3, 60, 600, jitter=0.0) == 120
    assert backoff_seconds(3, 60, 600, jitter=0.5) == 180
    assert backoff_seconds(10, 60, 600, jitter=0.0) == 300


def test_next_retry_at_adds_the_delay_to_the_failure_time() -> None:
    assert next_retry_at(NOW, 2, 60, 600, jitter=0.25) == NOW + timedelta(seconds=75)


def test_huge_attempt_numbers_stay_capped() -> None:
    assert backoff_seconds(10_000, 60, 3_600, jitter=1.0) == 3_600


@pytest.mark.parametrize("attempt, jitter", [(0, 0.5), (1, -0.1), (1, 1.5)])
def test_backoff_refuses_nonsense(attempt: int, jitter: float) -> None:
    with pytest.raises(ValueError):
        backoff_seconds(attempt, 60, 600, jitter)


@given(
    st.integers(min_value=1, max_value=100),
    st.integers(min_value=1, max_value=1_000),
    st.integers(min_value=0, max_value=100_000),
    st.floats(min_value=0.0, max_value=1.0),
)
def test_backoff_is_never_above_the_cap_nor_below_half_of_it(
    attempt: int, base: int, extra: int, jitter: float
) -> None:
    cap = base + extra
    delay = backoff_seconds(attempt, base, cap, jitter)
    plain = min(cap, base * 2 ** (attempt - 1))
    assert plain / 2 <= delay <= plain <= cap


def test_retry_policy_validation_and_defaults() -> None:
    assert RetryPolicy(5, 60, 3_600) == REGISTRATION_RETRY_DEFAULTS
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=0, base_seconds=60, max_seconds=600)
    with pytest.raises(ValueError):
        RetryPolicy(max_attempts=3, base_seconds=600, max_seconds=60)
