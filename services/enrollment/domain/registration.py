"""A worker's registration at BPJS under one programme, as a decider over its stream.

One stream per worker and programme, `registration-{worker_id}:{programme_code}`, holds every
attempt sent (RegistrationRequested 1, 2, ...), every retry scheduled, and the outcome
(EnrolledAtBPJS or EnrollmentFailed): the request lifecycle of bpjs_request.py, written in
registration events (`RegistrationEvents`), with the KPJ as BPJS's answer. Then, when the
programme lets the worker go (a release, or the end of the BPU membership, release.py), it holds
CoverageEnded and the stop-payment sent to BPJS (DeregistrationRequested 1, 2, ...), and the
coverage facts recorded as the calendar moves on (CoverageLapsed, CoverageRestored).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from libs.events.contracts.allocation import QuotaReleased
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import (
    DeregistrationRequested,
    RegistrationAccepted,
    RegistrationRejected,
    RegistrationRequested,
)
from libs.events.contracts.enrollment import (
    CoverageEnded,
    CoverageLapsed,
    CoverageRestored,
    EnrolledAtBPJS,
    EnrollmentFailed,
    MembershipEnded,
    RegistrationRetryScheduled,
)
from libs.eventstore.decider import Decider, Recorded
from libs.eventstore.kit import Origin
from services.enrollment.domain import bpjs_request as lifecycle
from services.enrollment.domain.bpjs_request import Answered, Outcome, Request, RequestPolicy
from services.enrollment.domain.registration_events import RegistrationEvents, result_of
from services.enrollment.domain.release import (
    ReleaseAction,
    deregistration_overdue,
    end_events,
    release_action,
    stop_payment,
)

KIND = "registration"
LocalDate = Callable[[datetime], date]


def registration_stream(worker_id: str, programme_code: str) -> str:
    """One stream per worker and programme: at most one registration each."""
    return f"registration-{worker_id}:{programme_code}"


def request_id_of(worker_id: str, programme_code: str) -> str:
    """The id BPJS echoes back; it names the registration stream."""
    return f"{worker_id}:{programme_code}"


def stream_of_request(request_id: str) -> str:
    return f"registration-{request_id}"


@dataclass(frozen=True)
class Registration:
    """A registration stream folded. `requested` is attempt 1 (None: nothing was ever sent);
    `request` its lifecycle at BPJS; `ended` set once the programme let the worker go (nothing
    enrolls them any more); `stop` the latest attempt of the stop-payment."""

    requested: RegistrationRequested | None = None
    request: Request | None = None
    correlation_id: uuid.UUID | None = None
    last_sent_id: uuid.UUID | None = None  # event id of the latest attempt (the cause of a timeout)
    enrolled: EnrolledAtBPJS | None = None
    ended: CoverageEnded | None = None
    stop: DeregistrationRequested | None = None
    stop_sent_at: datetime | None = None
    stop_event_id: uuid.UUID | None = None


def evolve(state: Registration, recorded: Recorded) -> Registration:
    """One recorded event applied to a registration."""
    event, envelope = recorded.event, recorded.envelope
    if state.correlation_id is None:
        state = replace(state, correlation_id=envelope.correlation_id)
    if isinstance(event, CoverageEnded):
        return state if state.ended else replace(state, ended=event)
    if isinstance(event, DeregistrationRequested):
        return replace(state, stop=event, stop_sent_at=envelope.occurred_at, stop_event_id=envelope.event_id)
    if isinstance(event, RegistrationRequested):
        request = lifecycle.sent(state.request, event.attempt, envelope.occurred_at)
        first = state.requested or event
        return replace(state, requested=first, request=request, last_sent_id=envelope.event_id)
    if state.request is None:
        return state
    if isinstance(event, RegistrationRetryScheduled):
        return replace(state, request=lifecycle.scheduled(state.request, event.retry_at))
    if isinstance(event, EnrolledAtBPJS):
        return replace(state, enrolled=event, request=lifecycle.answered(state.request, event.kpj))
    if isinstance(event, EnrollmentFailed):
        return replace(state, request=lifecycle.refused(state.request, event.reason))
    return state


# --- commands ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestRegistration:
    """Send attempt 1 (built from an assignment or its decree), unless the stream exists."""

    first: RegistrationRequested
    origin: Origin


@dataclass(frozen=True)
class ApplyAnswer:
    """Record BPJS's answer to an attempt; `jitter` spreads the retry it may schedule."""

    answer: RegistrationAccepted | RegistrationRejected
    received_at: datetime
    jitter: float
    origin: Origin


@dataclass(frozen=True)
class Tick:
    """The clock at `now`: a due retry is sent, an unanswered attempt times out, an unanswered
    stop-payment is sent again."""

    worker_id: str
    programme_code: str
    now: datetime
    jitter: float
    origin: Origin
    stop_payment: bool = False  # the stop-payment's clock, not the registration's


@dataclass(frozen=True)
class Release:
    """Allocation let the worker go on `today` (the business day)."""

    release: QuotaReleased
    today: date
    origin: Origin


@dataclass(frozen=True)
class EndMembership:
    """More months went unpaid than the BPU arrears allow: the membership ends on `ended_on`."""

    worker_id: str
    programme_code: str
    months_unpaid: tuple[str, ...]
    ended_on: date
    arrears_months_allowed: int
    origin: Origin


@dataclass(frozen=True)
class RecordFact:
    """A coverage fact decided from the coverage ledger (a lapse, a restoration)."""

    fact: CoverageLapsed | CoverageRestored
    origin: Origin


Command = RequestRegistration | ApplyAnswer | Tick | Release | EndMembership | RecordFact


def stream_of(command: Command) -> str:
    """The registration stream a command is about."""
    if isinstance(command, RequestRegistration):
        return registration_stream(command.first.worker_id, command.first.programme_code)
    if isinstance(command, ApplyAnswer):
        return stream_of_request(command.answer.request_id)
    if isinstance(command, Release):
        return registration_stream(command.release.worker_id, command.release.programme_code)
    if isinstance(command, RecordFact):
        return registration_stream(command.fact.worker_id, command.fact.programme_code)
    return registration_stream(command.worker_id, command.programme_code)


# --- deciding ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Registrations:
    """The registration decisions under the service's policies (bound once, at bootstrap)."""

    policy: RequestPolicy
    local_date: LocalDate  # the business calendar's day of an instant (WIB by default)

    def judge_answer(self, command: ApplyAnswer, state: Registration) -> tuple[Outcome, list[DomainEvent]]:
        """What BPJS's answer does to the registration (the rule applied) and its events."""
        answer = command.answer
        if state.requested is None or state.request is None:
            raise LookupError(f"BPJS answered registration {answer.request_id} that Lindung never sent")
        if answer.worker_id != state.requested.worker_id:
            raise ValueError(f"BPJS answered registration {answer.request_id} for another worker")
        if state.ended is not None:
            # Released: the answer enrolls nobody; an acceptance is stopped at BPJS at once.
            if isinstance(answer, RegistrationAccepted) and state.stop is None:
                stop = stop_payment(state.requested, answer.kpj, state.ended.ended_on, state.ended.reason)
                return Outcome.APPLIED, [stop]
            return Outcome.STALE, []
        accepted = isinstance(answer, RegistrationAccepted)
        events = RegistrationEvents(
            state.requested,
            self.local_date(answer.registered_at) if isinstance(answer, RegistrationAccepted) else None,
            answer.continued if isinstance(answer, RegistrationAccepted) else False,
        )
        result = result_of(answer)
        assert accepted == isinstance(result, Answered)
        return lifecycle.decide_result(
            state.request, result, self.policy, command.received_at, command.jitter, events
        )

    def judge_tick(self, command: Tick, state: Registration) -> tuple[str | None, list[DomainEvent]]:
        """What the clock does to the registration's request (`retry`, `timeout`), or with
        `stop_payment` to its stop-payment (`retry`: sent again); None: nothing due."""
        if state.requested is None or state.request is None:
            return None, []
        if not command.stop_payment:
            if state.ended is not None:
                return None, []  # cancelled by a release: no attempt follows
            action, events = lifecycle.decide_clock(
                state.request, command.now, self.policy, command.jitter, RegistrationEvents(state.requested)
            )
            return (action.value if action else None), events
        stop, sent_at = state.stop, state.stop_sent_at
        if stop is None or sent_at is None:
            return None, []
        if not deregistration_overdue(sent_at, command.now, self.policy.answer_timeout):
            return None, []
        return "retry", [stop.model_copy(update={"attempt": stop.attempt + 1})]

    def release_action(self, state: Registration) -> ReleaseAction:
        """What a release does to this registration (release.py)."""
        if state.request is None:
            return ReleaseAction.NOTHING
        return release_action(state.request.status, state.ended is not None)

    def judge_release(self, command: Command, state: Registration) -> tuple[ReleaseAction, list[DomainEvent]]:
        """What a release does to the registration (release.py) and its events."""
        assert isinstance(command, Release)
        action = self.release_action(state)
        if action is ReleaseAction.NOTHING or state.requested is None:
            return ReleaseAction.NOTHING, []
        enrolled = state.enrolled if action is ReleaseAction.END else None
        cause = command.origin.causation_id
        return action, end_events(state.requested, enrolled, command.release.reason, command.today, cause)

    def decide(self, command: Command, state: Registration) -> Sequence[DomainEvent]:
        """The events a command records in the registration's stream."""
        if isinstance(command, RequestRegistration):
            # Already requested: a replayed or repeated assignment asks BPJS nothing new.
            return [] if state.requested is not None else [command.first]
        if isinstance(command, ApplyAnswer):
            return self.judge_answer(command, state)[1]
        if isinstance(command, Tick):
            return self.judge_tick(command, state)[1]
        if isinstance(command, Release):
            return self.judge_release(command, state)[1]
        if isinstance(command, EndMembership):
            return self._end_membership(command, state)
        return [command.fact]

    def _end_membership(self, command: EndMembership, state: Registration) -> list[DomainEvent]:
        if state.requested is None or state.ended is not None or state.enrolled is None:
            return []
        ended = MembershipEnded(
            worker_id=command.worker_id,
            programme_code=command.programme_code,
            regency_code=state.requested.regency_code,
            kpj=state.enrolled.kpj,
            months_unpaid=list(command.months_unpaid),
            ended_on=command.ended_on,
            arrears_months_allowed=command.arrears_months_allowed,
        )
        return [
            ended,
            *end_events(state.requested, state.enrolled, "membership_ended", command.ended_on, None),
        ]

    def decider(self) -> Decider[Command, Registration]:
        """The registration stream as a decider for the stream kit."""
        return Decider(KIND, Registration(), evolve, self.decide, stream_of)
