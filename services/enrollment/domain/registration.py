"""Registration at BPJS Ketenagakerjaan, per (worker, programme): a small state machine.

    REQUESTED --accepted(kpj)--> ENROLLED
    REQUESTED --rejected, retryable, attempts left--> REQUESTED (retry scheduled)
    REQUESTED --rejected otherwise--> FAILED(reason)
    FAILED --accepted(kpj)--> ENROLLED

Results arrive at least once and out of order, so every result names the attempt it answers and
these rules decide (the outcome says which applied):

* An acceptance is a fact about BPJS: the participant exists and holds a KPJ. It enrolls the
  worker whichever attempt it answers, even after a retry was scheduled or the registration
  FAILED (an attempt we gave up on may have succeeded at BPJS; ignoring it would leave a
  registered worker unpaid). Nothing moves a registration out of ENROLLED.
* A rejection counts only for the attempt in flight; a rejection for an older attempt, or
  arriving once ENROLLED, is STALE and changes nothing.
* The same result twice is a DUPLICATE no-op. An acceptance with another KPJ once ENROLLED is a
  KPJ_CONFLICT: the state keeps the first KPJ and the caller must raise it with BPJS.
* A result for an attempt never sent is UNKNOWN_ATTEMPT and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

# 2**62 s is far beyond any sane cap; bounding the exponent keeps the integers small.
_MAX_DOUBLINGS = 62


class RegistrationStatus(StrEnum):
    """Where a registration stands."""

    REQUESTED = "REQUESTED"
    ENROLLED = "ENROLLED"
    FAILED = "FAILED"


class ResultOutcome(StrEnum):
    """What applying a BPJS result did."""

    APPLIED = "APPLIED"
    DUPLICATE = "DUPLICATE"
    STALE = "STALE"
    KPJ_CONFLICT = "KPJ_CONFLICT"
    UNKNOWN_ATTEMPT = "UNKNOWN_ATTEMPT"


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how fast to retry a registration. Configuration, never hard-coded."""

    max_attempts: int
    base_seconds: int
    max_seconds: int

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if not 0 < self.base_seconds <= self.max_seconds:
            raise ValueError("need 0 < base_seconds <= max_seconds")


@dataclass(frozen=True, slots=True)
class Registration:
    """One worker's registration under one programme.

    `attempt` is the latest attempt sent to BPJS. `retry_at` is set while REQUESTED once that
    attempt was rejected with a retryable reason: attempt `attempt + 1` is due at that instant.
    """

    worker_id: str
    programme_id: str
    status: RegistrationStatus
    attempt: int
    kpj: str | None = None
    failure_reason: str | None = None
    retry_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RegistrationAccepted:
    """BPJS registered the participant in answer to `attempt` and issued (or found) a KPJ."""

    attempt: int
    kpj: str


@dataclass(frozen=True, slots=True)
class RegistrationRejected:
    """BPJS (or a timeout, when `retryable`) refused `attempt`."""

    attempt: int
    reason_code: str
    reason: str
    retryable: bool


BpjsResult = RegistrationAccepted | RegistrationRejected


@dataclass(frozen=True, slots=True)
class RegistrationChange:
    """The registration after a result, and what the result did."""

    registration: Registration
    outcome: ResultOutcome

    @property
    def changed(self) -> bool:
        """True when the state moved and an event must be recorded."""
        return self.outcome is ResultOutcome.APPLIED


def request_registration(worker_id: str, programme_id: str) -> Registration:
    """A new registration whose first attempt is to be sent now."""
    return Registration(worker_id, programme_id, RegistrationStatus.REQUESTED, attempt=1)


def is_terminal(registration: Registration) -> bool:
    """True when no further attempt will be sent (ENROLLED or FAILED). A FAILED registration
    still accepts a late acceptance: see the module rules."""
    return registration.status is not RegistrationStatus.REQUESTED


def retry_due(registration: Registration, now: datetime) -> bool:
    """True when a scheduled retry may be sent at `now`."""
    return registration.retry_at is not None and now >= registration.retry_at


def begin_retry(registration: Registration) -> Registration:
    """The registration once the next attempt is sent; raises if no retry is scheduled."""
    if registration.status is not RegistrationStatus.REQUESTED or registration.retry_at is None:
        raise ValueError(f"no retry scheduled for {registration}")
    return replace(registration, attempt=registration.attempt + 1, retry_at=None)


def apply_result(
    registration: Registration,
    result: BpjsResult,
    retry: RetryPolicy,
    received_at: datetime,
    jitter: float,
) -> RegistrationChange:
    """Apply one BPJS result under the module rules. `received_at` and `jitter` only serve to
    schedule a retry (see `next_retry_at`)."""
    if not 1 <= result.attempt <= registration.attempt:
        return RegistrationChange(registration, ResultOutcome.UNKNOWN_ATTEMPT)
    if isinstance(result, RegistrationAccepted):
        return _accept(registration, result)
    return _reject(registration, result, retry, received_at, jitter)


def _accept(registration: Registration, result: RegistrationAccepted) -> RegistrationChange:
    if registration.status is RegistrationStatus.ENROLLED:
        same = registration.kpj == result.kpj
        outcome = ResultOutcome.DUPLICATE if same else ResultOutcome.KPJ_CONFLICT
        return RegistrationChange(registration, outcome)
    enrolled = replace(
        registration,
        status=RegistrationStatus.ENROLLED,
        kpj=result.kpj,
        failure_reason=None,
        retry_at=None,
    )
    return RegistrationChange(enrolled, ResultOutcome.APPLIED)


def _reject(
    registration: Registration,
    result: RegistrationRejected,
    retry: RetryPolicy,
    received_at: datetime,
    jitter: float,
) -> RegistrationChange:
    if registration.status is RegistrationStatus.ENROLLED or result.attempt < registration.attempt:
        return RegistrationChange(registration, ResultOutcome.STALE)
    # From here the rejection answers the latest attempt; if that attempt was already settled
    # (a retry is scheduled, or the registration failed), this is the same result again.
    if registration.status is RegistrationStatus.FAILED or registration.retry_at is not None:
        return RegistrationChange(registration, ResultOutcome.DUPLICATE)
    if result.retryable and registration.attempt < retry.max_attempts:
        when = next_retry_at(received_at, registration.attempt, retry.base_seconds, retry.max_seconds, jitter)
        return RegistrationChange(replace(registration, retry_at=when), ResultOutcome.APPLIED)
    failed = replace(registration, status=RegistrationStatus.FAILED, failure_reason=result.reason)
    return RegistrationChange(failed, ResultOutcome.APPLIED)


def backoff_seconds(attempt: int, base_seconds: int, max_seconds: int, jitter: float) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based).

    The plain schedule doubles from `base_seconds` and is capped at `max_seconds`:
    base, 2·base, 4·base, ... `jitter` in [0, 1] is drawn by the caller (`random.random()` in
    production, a constant in tests) and spreads the wait over [capped/2, capped] ("equal
    jitter"), so workers rejected together do not retry together, and the wait never exceeds
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
