"""A request to BPJS Ketenagakerjaan and its answers: the one lifecycle that a registration and a
premium payment share (their events differ, see registration.py and premium_payment.py).

    WAITING --answered(x)--> ANSWERED
    WAITING --refused, retryable, attempts left--> WAITING (retry scheduled)
    WAITING --refused otherwise--> REFUSED
    REFUSED --answered(x)--> ANSWERED

What BPJS answers is `x`: a KPJ for a registration, a payment receipt for a premium payment.
Answers arrive at least once and out of order, so every answer names the attempt it answers and
these rules decide (the outcome says which applied):

* An answer is a fact about BPJS (the participant exists, the payment was booked). It counts
  whichever attempt it answers, even after a retry was scheduled or the request was REFUSED (an
  attempt we gave up on may have succeeded at BPJS; ignoring it would leave a registered worker
  unpaid). Nothing moves a request out of ANSWERED.
* A refusal counts only for the attempt in flight; a refusal of an older attempt, or arriving
  once ANSWERED, is STALE and changes nothing.
* The same answer twice is a DUPLICATE no-op. A second, different answer once ANSWERED is a
  CONFLICT (two KPJs, two receipts): the first stands and the caller raises it with BPJS.
* An answer to an attempt never sent is UNKNOWN_ATTEMPT and changes nothing.
* An attempt left unanswered past the answer timeout counts as a retryable refusal (TIMEOUT);
  a scheduled retry, once due, sends attempt + 1.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from libs.events.contracts.base import DomainEvent

# 2**62 s is far beyond any sane cap; bounding the exponent keeps the integers small.
_MAX_DOUBLINGS = 62
TIMEOUT = "TIMEOUT"


class RequestStatus(StrEnum):
    """Where a request to BPJS stands."""

    WAITING = "WAITING"
    ANSWERED = "ANSWERED"
    REFUSED = "REFUSED"


class Outcome(StrEnum):
    """What applying a BPJS answer did."""

    APPLIED = "APPLIED"
    DUPLICATE = "DUPLICATE"
    STALE = "STALE"
    CONFLICT = "CONFLICT"
    UNKNOWN_ATTEMPT = "UNKNOWN_ATTEMPT"


class ClockAction(StrEnum):
    """What the clock does to a waiting request."""

    RETRY = "retry"  # the scheduled retry is due: attempt + 1 is sent
    TIMEOUT = "timeout"  # the attempt went unanswered: a retryable refusal


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how fast to retry a request. Configuration, never hard-coded."""

    max_attempts: int
    base_seconds: int
    max_seconds: int

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if not 0 < self.base_seconds <= self.max_seconds:
            raise ValueError("need 0 < base_seconds <= max_seconds")


@dataclass(frozen=True, slots=True)
class RequestPolicy:
    """Retries and the answer timeout of requests to BPJS."""

    retry: RetryPolicy
    answer_timeout: timedelta


@dataclass(frozen=True, slots=True)
class Request:
    """One request to BPJS. `attempt` is the latest attempt sent (at `sent_at`); `retry_at` is set
    while WAITING once that attempt was refused with a retryable reason: attempt + 1 is due then."""

    attempt: int = 1
    status: RequestStatus = RequestStatus.WAITING
    answer: str | None = None  # the KPJ, or the payment receipt
    refusal: str | None = None
    retry_at: datetime | None = None
    sent_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Answered:
    """BPJS did what `attempt` asked and says so with `answer` (a KPJ, a receipt)."""

    attempt: int
    answer: str


@dataclass(frozen=True, slots=True)
class Refused:
    """BPJS (or a timeout, when `retryable`) refused `attempt`."""

    attempt: int
    reason_code: str
    reason: str
    retryable: bool


Result = Answered | Refused


@dataclass(frozen=True, slots=True)
class Change:
    """The request after a result, and what the result did."""

    request: Request
    outcome: Outcome

    @property
    def changed(self) -> bool:
        """True when the state moved and an event must be recorded."""
        return self.outcome is Outcome.APPLIED


def sent(request: Request | None, attempt: int, at: datetime) -> Request:
    """The request once `attempt` was sent at `at` (a new request for attempt 1)."""
    current = request or Request()
    return replace(current, attempt=attempt, retry_at=None, sent_at=at)


def scheduled(request: Request, retry_at: datetime) -> Request:
    """The request once a retry of its attempt was scheduled for `retry_at`."""
    return replace(request, retry_at=retry_at)


def answered(request: Request, answer: str) -> Request:
    """The request once BPJS answered it with `answer`."""
    return replace(request, status=RequestStatus.ANSWERED, answer=answer, refusal=None, retry_at=None)


def refused(request: Request, reason: str) -> Request:
    """The request once given up (BPJS refused it for good, or attempts ran out)."""
    return replace(request, status=RequestStatus.REFUSED, refusal=reason, retry_at=None)


def is_terminal(request: Request) -> bool:
    """True when no further attempt will be sent (ANSWERED or REFUSED). A REFUSED request still
    takes a late answer: see the module rules."""
    return request.status is not RequestStatus.WAITING


def retry_due(request: Request, now: datetime) -> bool:
    """True when a scheduled retry may be sent at `now`."""
    return request.retry_at is not None and now >= request.retry_at


def begin_retry(request: Request) -> Request:
    """The request once the next attempt is sent; raises if no retry is scheduled."""
    if request.status is not RequestStatus.WAITING or request.retry_at is None:
        raise ValueError(f"no retry scheduled for {request}")
    return replace(request, attempt=request.attempt + 1, retry_at=None)


def clock_action(request: Request, now: datetime, answer_timeout: timedelta) -> ClockAction | None:
    """What the clock does at `now` to a request: send the retry due, count the attempt
    unanswered since `answer_timeout` as refused, or nothing."""
    if request.status is not RequestStatus.WAITING:
        return None
    if request.retry_at is not None:
        return ClockAction.RETRY if retry_due(request, now) else None
    if request.sent_at is None or now < request.sent_at + answer_timeout:
        return None
    return ClockAction.TIMEOUT


def timeout_refusal(attempt: int, answer_timeout: timedelta) -> Refused:
    """An attempt left unanswered past the timeout: a retryable refusal of that attempt."""
    seconds = int(answer_timeout.total_seconds())
    return Refused(
        attempt=attempt,
        reason_code=TIMEOUT,
        reason=f"BPJS tidak menjawab permintaan (percobaan ke-{attempt}) dalam {seconds} detik.",
        retryable=True,
    )


def apply_result(
    request: Request, result: Result, retry: RetryPolicy, received_at: datetime, jitter: float
) -> Change:
    """Apply one BPJS result under the module rules. `received_at` and `jitter` only serve to
    schedule a retry (see `next_retry_at`)."""
    if not 1 <= result.attempt <= request.attempt:
        return Change(request, Outcome.UNKNOWN_ATTEMPT)
    if isinstance(result, Answered):
        return _answer(request, result)
    return _refuse(request, result, retry, received_at, jitter)


def _answer(request: Request, result: Answered) -> Change:
    if request.status is RequestStatus.ANSWERED:
        return Change(request, Outcome.DUPLICATE if request.answer == result.answer else Outcome.CONFLICT)
    answered = replace(
        request, status=RequestStatus.ANSWERED, answer=result.answer, refusal=None, retry_at=None
    )
    return Change(answered, Outcome.APPLIED)


def _refuse(
    request: Request, result: Refused, retry: RetryPolicy, received_at: datetime, jitter: float
) -> Change:
    if request.status is RequestStatus.ANSWERED or result.attempt < request.attempt:
        return Change(request, Outcome.STALE)
    # From here the refusal answers the latest attempt; if that attempt was already settled (a
    # retry is scheduled, or the request was refused), this is the same result again.
    if request.status is RequestStatus.REFUSED or request.retry_at is not None:
        return Change(request, Outcome.DUPLICATE)
    if result.retryable and request.attempt < retry.max_attempts:
        when = next_retry_at(received_at, request.attempt, retry.base_seconds, retry.max_seconds, jitter)
        return Change(replace(request, retry_at=when), Outcome.APPLIED)
    refused = replace(request, status=RequestStatus.REFUSED, refusal=result.reason)
    return Change(refused, Outcome.APPLIED)


def backoff_seconds(attempt: int, base_seconds: int, max_seconds: int, jitter: float) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based).

    The plain schedule doubles from `base_seconds` and is capped at `max_seconds`:
    base, 2·base, 4·base, ... `jitter` in [0, 1] is drawn by the caller (`random.random()` in
    production, a constant in tests) and spreads the wait over [capped/2, capped] ("equal
    jitter"), so requests refused together do not retry together, and the wait never exceeds
    the cap. jitter=1 gives the plain schedule.
    """
    if attempt < 1:
        raise ValueError(f"attempt must be >= 1, got {attempt}")
    if not 0.0 <= jitter <= 1.0:
        raise ValueError(f"jitter must be in [0, 1], got {jitter}")
    capped = min(max_seconds, base_seconds << min(attempt - 1, _MAX_DOUBLINGS))
    return capped / 2 * (1 + jitter)


def next_retry_at(
    failed_at: datetime, attempt: int, base_seconds: int, max_seconds: int, jitter: float
) -> datetime:
    """When to send the attempt after `attempt`, which failed at `failed_at`."""
    return failed_at + timedelta(seconds=backoff_seconds(attempt, base_seconds, max_seconds, jitter))


class RequestEvents(Protocol):
    """How one kind of request writes its lifecycle in events (a registration's, a payment's):
    the events of the stream whose request this is, bound to what they need to say."""

    def resent(self, attempt: int) -> list[DomainEvent]: ...

    def answered(self, answer: Answered, before: Request) -> list[DomainEvent]: ...

    def refused(self, refusal: Refused, attempts: int) -> list[DomainEvent]: ...

    def retry_scheduled(self, refusal: Refused, retry_at: datetime) -> list[DomainEvent]: ...

    def conflict(self, answer: Answered, held: str) -> list[DomainEvent]: ...


def decide_result(
    request: Request,
    result: Result,
    policy: RequestPolicy,
    received_at: datetime,
    jitter: float,
    events: RequestEvents,
) -> tuple[Outcome, list[DomainEvent]]:
    """What a BPJS result does to a request (the module rules), and the events that record it."""
    change = apply_result(request, result, policy.retry, received_at, jitter)
    if change.outcome is Outcome.CONFLICT:
        assert isinstance(result, Answered)
        return change.outcome, events.conflict(result, request.answer or "")
    if not change.changed:
        return change.outcome, []
    new = change.request
    if new.status is RequestStatus.ANSWERED:
        assert isinstance(result, Answered)
        return change.outcome, events.answered(result, request)
    assert isinstance(result, Refused)
    if new.status is RequestStatus.REFUSED:
        return change.outcome, events.refused(result, new.attempt)
    assert new.retry_at is not None
    return change.outcome, events.retry_scheduled(result, new.retry_at)


def decide_clock(
    request: Request, now: datetime, policy: RequestPolicy, jitter: float, events: RequestEvents
) -> tuple[ClockAction | None, list[DomainEvent]]:
    """What the clock does at `now` (`clock_action`), and the events that record it."""
    action = clock_action(request, now, policy.answer_timeout)
    if action is ClockAction.RETRY:
        return action, events.resent(begin_retry(request).attempt)
    if action is ClockAction.TIMEOUT:
        timeout = timeout_refusal(request.attempt, policy.answer_timeout)
        return action, decide_result(request, timeout, policy, now, jitter, events)[1]
    return None, []
