"""Registrations at BPJS as event streams, decided by the domain's state machine (registration.py).

One stream per worker and programme, `registration-{worker_id}:{programme_code}`, holds every
attempt sent (RegistrationRequested 1, 2, ...), every retry scheduled, and the outcome
(EnrolledAtBPJS or EnrollmentFailed); then, when the programme lets the worker go (a release,
domain/release.py, or the end of the BPU membership), CoverageEnded and the stop-payment sent to
BPJS (DeregistrationRequested 1, 2, ...). The stream is folded back into the domain's
`Registration` to decide on each BPJS answer, timeout or due retry; the new events are appended
with the version read, so two deciders racing on one stream cannot both win.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope, decode
from libs.events.contracts.allocation import AssignmentDecreed, QuotaAssigned, QuotaReleased
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import (
    DeregistrationConfirmed,
    DeregistrationRejected,
    DeregistrationRequested,
    RegistrationAccepted,
    RegistrationRejected,
    RegistrationRequested,
)
from libs.events.contracts.enrollment import (
    CoverageEnded,
    EnrolledAtBPJS,
    EnrollmentFailed,
    KpjConflictDetected,
    MembershipEnded,
    RegistrationRetryScheduled,
    ReleaseReason,
)
from libs.eventstore.batch import StreamAppend, append_batch
from libs.eventstore.store import EventStore
from services.enrollment.adapters.projections import project_batch
from services.enrollment.adapters.tables import deregistrations, registrations
from services.enrollment.application.config import EnrollmentConfig
from services.enrollment.domain import registration as domain
from services.enrollment.domain.coverage import last_month_billable
from services.enrollment.domain.months import YearMonth
from services.enrollment.domain.registration import Registration, RegistrationStatus, ResultOutcome
from services.enrollment.domain.release import ReleaseAction, deregistration_overdue, release_action

TIMEOUT = "TIMEOUT"


def registration_stream(worker_id: str, programme_code: str) -> str:
    """One stream per worker and programme: at most one registration each."""
    return f"registration-{worker_id}:{programme_code}"


def request_id_of(worker_id: str, programme_code: str) -> str:
    """The id BPJS echoes back; it names the registration stream."""
    return f"{worker_id}:{programme_code}"


def stream_of_request(request_id: str) -> str:
    return f"registration-{request_id}"


DEREGISTRATION_SUFFIX = ":stop"


def deregistration_id_of(worker_id: str, programme_code: str) -> str:
    """The id of the stop-payment of a registration (one per worker and programme)."""
    return request_id_of(worker_id, programme_code) + DEREGISTRATION_SUFFIX


def stream_of_deregistration(request_id: str) -> str | None:
    """The registration stream a stop-payment's id names (None: not a stop-payment id)."""
    if not request_id.endswith(DEREGISTRATION_SUFFIX):
        return None
    return stream_of_request(request_id.removesuffix(DEREGISTRATION_SUFFIX))


@dataclass(frozen=True)
class RegistrationHistory:
    """A registration stream folded: the first request, the domain state, the stream version and
    when the latest attempt was sent."""

    request: RegistrationRequested
    state: Registration
    version: int
    sent_at: datetime
    correlation_id: uuid.UUID
    last_request_id: uuid.UUID  # event id of the latest attempt (the cause of a timeout)
    enrolled: EnrolledAtBPJS | None = None
    ended: CoverageEnded | None = None  # the programme let the worker go: nothing enrolls them
    stop: DeregistrationRequested | None = None  # the latest attempt of the stop-payment
    stop_sent_at: datetime | None = None
    stop_event_id: uuid.UUID | None = None


def fold(history: Sequence[Envelope]) -> RegistrationHistory | None:
    """The registration a stream records (None for an empty stream)."""
    request: RegistrationRequested | None = None
    state: Registration | None = None
    sent_at: datetime | None = None
    last_request: Envelope | None = None
    enrolled: EnrolledAtBPJS | None = None
    ended: CoverageEnded | None = None
    stop: tuple[DeregistrationRequested, Envelope] | None = None
    for envelope in history:
        event = decode(envelope)
        if isinstance(event, CoverageEnded):
            ended = ended or event
            continue
        if isinstance(event, DeregistrationRequested):
            stop = (event, envelope)
            continue
        if isinstance(event, RegistrationRequested):
            if request is None or state is None:
                request = event
                state = domain.request_registration(event.worker_id, event.programme_code)
            state = replace(state, attempt=event.attempt, retry_at=None)
            sent_at = envelope.occurred_at
            last_request = envelope
        elif state is None:
            continue
        elif isinstance(event, RegistrationRetryScheduled):
            state = replace(state, retry_at=event.retry_at)
        elif isinstance(event, EnrolledAtBPJS):
            enrolled = event
            state = replace(
                state, status=RegistrationStatus.ENROLLED, kpj=event.kpj, failure_reason=None, retry_at=None
            )
        elif isinstance(event, EnrollmentFailed):
            state = replace(
                state, status=RegistrationStatus.FAILED, failure_reason=event.reason, retry_at=None
            )
    if request is None or state is None or sent_at is None or last_request is None:
        return None
    if ended is not None and state.status is RegistrationStatus.REQUESTED:
        state = replace(state, retry_at=None)  # cancelled: no attempt follows
    return RegistrationHistory(
        request,
        state,
        len(history),
        sent_at,
        history[0].correlation_id,
        last_request.event_id,
        enrolled=enrolled,
        ended=ended,
        stop=stop[0] if stop else None,
        stop_sent_at=stop[1].occurred_at if stop else None,
        stop_event_id=stop[1].event_id if stop else None,
    )


Assignment = QuotaAssigned | AssignmentDecreed
Answer = RegistrationAccepted | RegistrationRejected


def first_request(event: Assignment, kpj: str | None = None) -> RegistrationRequested:
    """Attempt 1 of the registration an assignment (or its decree) calls for; `kpj` is the one
    the worker already holds (a continuing participant), if enrollment knows it."""
    return RegistrationRequested(
        request_id=request_id_of(event.worker_id, event.programme_code),
        attempt=1,
        worker_id=event.worker_id,
        programme_code=event.programme_code,
        identity=event.identity,
        funder=event.funder,
        regency_code=event.regency_code,
        sector=event.sector,
        coverage_start=event.coverage_start,
        coverage_end=event.coverage_end,
        kpj=kpj,
    )


async def known_kpjs(conn: AsyncConnection, worker_ids: Sequence[str]) -> dict[str, str]:
    """The KPJ each worker already holds, from their registrations under any programme (the
    latest enrolled), for the workers that have one."""
    rows = await conn.execute(
        select(registrations.c.worker_id, registrations.c.kpj)
        .where(registrations.c.worker_id.in_(sorted(set(worker_ids))), registrations.c.kpj.is_not(None))
        .order_by(registrations.c.enrolled_on.nulls_first(), registrations.c.updated_at)
    )
    return {worker_id: kpj for worker_id, kpj in rows}


async def request_registration(
    conn: AsyncConnection, store: EventStore, event: Assignment, cause: Envelope
) -> bool:
    """Send attempt 1 of the worker's registration unless the stream exists; True if sent."""
    return await request_registrations(conn, store, [(event, cause)]) == 1


async def request_registrations(
    conn: AsyncConnection, store: EventStore, assignments: Sequence[tuple[Assignment, Envelope]]
) -> int:
    """`request_registration` of each assignment in order, in a few statements; how many sent."""
    streams = [registration_stream(e.worker_id, e.programme_code) for e, _ in assignments]
    # Already requested: a replayed or repeated assignment asks BPJS nothing new.
    requested = set(await store.heads(conn, streams))
    held = await known_kpjs(conn, [e.worker_id for e, _ in assignments])
    appends: list[StreamAppend] = []
    for (event, cause), stream in zip(assignments, streams, strict=True):
        if stream in requested:
            continue
        requested.add(stream)
        appends.append(
            StreamAppend(
                stream,
                [first_request(event, held.get(event.worker_id))],
                0,
                correlation_id=cause.correlation_id,
                causation_id=cause.event_id,
            )
        )
    if appends:
        first_cause = assignments[0][1]
        await append_batch(
            conn, store, appends, project=project_batch, correlation_id=first_cause.correlation_id
        )
    return len(appends)


def _events_for(
    h: RegistrationHistory,
    change: domain.RegistrationChange,
    result: domain.BpjsResult,
    config: EnrollmentConfig,
    registered_at: datetime | None,
    continued: bool = False,
) -> list[DomainEvent]:
    request, new = h.request, change.registration
    if change.outcome is ResultOutcome.KPJ_CONFLICT:
        assert isinstance(result, domain.RegistrationAccepted)
        return [
            KpjConflictDetected(
                worker_id=request.worker_id,
                programme_code=request.programme_code,
                request_id=request.request_id,
                attempt=result.attempt,
                kpj_held=h.state.kpj or "",
                kpj_answered=result.kpj,
            )
        ]
    if not change.changed:
        return []
    if new.status is RegistrationStatus.ENROLLED:
        assert isinstance(result, domain.RegistrationAccepted) and registered_at is not None
        enrolled = EnrolledAtBPJS(
            worker_id=request.worker_id,
            programme_code=request.programme_code,
            funder=request.funder,
            regency_code=request.regency_code,
            kpj=result.kpj,
            coverage_start=request.coverage_start,
            coverage_end=request.coverage_end,
            request_id=request.request_id,
            enrolled_on=config.local_date(registered_at),
            attempt=result.attempt,
            continuing=continued,
        )
        if h.state.status is not RegistrationStatus.FAILED:
            return [enrolled]
        # BPJS registered someone enrollment had given up on: allocation released that seat on
        # EnrollmentFailed, so the programme does not take them on; BPJS is told to stop.
        assert enrolled.enrolled_on is not None
        return [enrolled, *end_events(h.request, enrolled, "enrollment_failed", enrolled.enrolled_on, None)]
    assert isinstance(result, domain.RegistrationRejected)
    if new.status is RegistrationStatus.FAILED:
        return [
            EnrollmentFailed(
                worker_id=request.worker_id,
                programme_code=request.programme_code,
                regency_code=request.regency_code,
                reason_code=result.reason_code,
                reason=result.reason,
                request_id=request.request_id,
                attempts=new.attempt,
            )
        ]
    assert new.retry_at is not None
    return [
        RegistrationRetryScheduled(
            worker_id=request.worker_id,
            programme_code=request.programme_code,
            request_id=request.request_id,
            attempt=result.attempt,
            reason_code=result.reason_code,
            reason=result.reason,
            retry_at=new.retry_at,
        )
    ]


async def apply_answers(
    conn: AsyncConnection,
    store: EventStore,
    config: EnrollmentConfig,
    answers: Sequence[tuple[Answer, Envelope, float]],
    *,
    received_at: datetime,
) -> list[ResultOutcome]:
    """Record what each BPJS answer changes in the registration it names (answers to distinct
    registrations, each with its retry jitter), in the same few statements whatever their
    number; return the rule applied to each, in order."""
    request_ids = [answer.request_id for answer, _, _ in answers]
    if len(set(request_ids)) != len(request_ids):
        raise ValueError("one batch of answers names a registration twice: apply them in turn")
    # Lock the read-model rows first (in one order), as the clock does: an answer and a timeout
    # of the same registration then take turns instead of deadlocking on each other's writes.
    await conn.execute(
        select(registrations.c.status)
        .where(registrations.c.request_id.in_(sorted(request_ids)))
        .order_by(registrations.c.request_id)
        .with_for_update()
    )
    streams = await store.load_many(conn, [stream_of_request(r) for r in request_ids])
    outcomes: list[ResultOutcome] = []
    appends: list[StreamAppend] = []
    for answer, cause, jitter in answers:
        stream = stream_of_request(answer.request_id)
        history, last_hash = streams[stream]
        h = fold(history)
        if h is None:
            raise LookupError(f"BPJS answered registration {answer.request_id} that Lindung never sent")
        if answer.worker_id != h.request.worker_id:
            raise ValueError(f"BPJS answered registration {answer.request_id} for another worker")
        result = _result_of(answer)
        if h.ended is not None:
            # Released: the answer enrolls nobody; an acceptance is stopped at BPJS at once.
            events = _stop_after_end(h, answer) if isinstance(answer, RegistrationAccepted) else []
            outcomes.append(ResultOutcome.APPLIED if events else ResultOutcome.STALE)
        else:
            registered_at = answer.registered_at if isinstance(answer, RegistrationAccepted) else None
            continued = answer.continued if isinstance(answer, RegistrationAccepted) else False
            change = domain.apply_result(h.state, result, config.retry, received_at, jitter)
            events = _events_for(h, change, result, config, registered_at, continued)
            outcomes.append(change.outcome)
        appends.append(
            StreamAppend(
                stream,
                events,
                h.version,
                correlation_id=cause.correlation_id,
                causation_id=cause.event_id,
                expected_hash=last_hash,
            )
        )
    await append_batch(
        conn, store, appends, project=project_batch, correlation_id=answers[0][1].correlation_id
    )
    return outcomes


def _result_of(answer: Answer) -> domain.BpjsResult:
    if isinstance(answer, RegistrationAccepted):
        return domain.RegistrationAccepted(attempt=answer.attempt, kpj=answer.kpj)
    return domain.RegistrationRejected(
        attempt=answer.attempt,
        reason_code=answer.reason_code,
        reason=answer.reason,
        retryable=answer.retryable,
    )


def timeout_result(attempt: int, config: EnrollmentConfig) -> domain.RegistrationRejected:
    """An attempt left unanswered past the timeout: a retryable failure of that attempt."""
    seconds = int(config.answer_timeout.total_seconds())
    return domain.RegistrationRejected(
        attempt=attempt,
        reason_code=TIMEOUT,
        reason=f"BPJS tidak menjawab permintaan (percobaan ke-{attempt}) dalam {seconds} detik.",
        retryable=True,
    )


async def on_clock(
    conn: AsyncConnection,
    store: EventStore,
    config: EnrollmentConfig,
    worker_id: str,
    programme_code: str,
    *,
    now: datetime,
    jitter: float,
) -> str | None:
    """Act on a waiting registration if its retry is due or its attempt timed out; returns what
    was done (`retry`, `timeout`) or None."""
    stream = registration_stream(worker_id, programme_code)
    history, last_hash = await store.load_chained(conn, stream)
    h = fold(history)
    if h is None or h.state.status is not RegistrationStatus.REQUESTED or h.ended is not None:
        return None  # answered, failed, or cancelled by a release: nothing more is sent
    if h.state.retry_at is not None:
        if not domain.retry_due(h.state, now):
            return None
        following = domain.begin_retry(h.state)
        again = h.request.model_copy(update={"attempt": following.attempt})
        await _append(conn, store, stream, h, [again], None, last_hash)
        return "retry"
    if now < h.sent_at + config.answer_timeout:
        return None
    result = timeout_result(h.state.attempt, config)
    change = domain.apply_result(h.state, result, config.retry, now, jitter)
    await _append(conn, store, stream, h, _events_for(h, change, result, config, None), None, last_hash)
    return "timeout"


async def _append(
    conn: AsyncConnection,
    store: EventStore,
    stream: str,
    h: RegistrationHistory,
    events: list[DomainEvent],
    cause: Envelope | None,
    last_hash: str,
) -> None:
    """Append after the version folded (whose last hash is `last_hash`, read in this
    transaction); a clock decision is caused by the attempt it acts on."""
    if events:
        await store.append(
            conn,
            stream,
            events,
            expected_version=h.version,
            expected_hash=last_hash,
            correlation_id=cause.correlation_id if cause else h.correlation_id,
            causation_id=cause.event_id if cause else h.last_request_id,
        )


# --- the end of coverage: releases, membership ended, stop-payments ------------------------------


def _stop(
    request: RegistrationRequested, kpj: str, last_covered_day: date, reason: ReleaseReason, attempt: int = 1
) -> DeregistrationRequested:
    return DeregistrationRequested(
        request_id=deregistration_id_of(request.worker_id, request.programme_code),
        attempt=attempt,
        worker_id=request.worker_id,
        programme_code=request.programme_code,
        kpj=kpj,
        funder=request.funder,
        regency_code=request.regency_code,
        last_covered_day=last_covered_day,
        reason=reason,
    )


def end_events(
    request: RegistrationRequested,
    enrolled: EnrolledAtBPJS | None,
    reason: ReleaseReason,
    ended_on: date,
    cause_event_id: uuid.UUID | None,
) -> list[DomainEvent]:
    """CoverageEnded on `ended_on` (the last covered day) and, for a worker BPJS enrolled, the
    stop-payment. The programme owes the month containing `ended_on` (premiums are paid ahead
    for whole months) and no later one; a worker never enrolled is owed nothing."""
    owed = None
    if enrolled is not None and reason != "enrollment_failed":
        start = max(enrolled.coverage_start, enrolled.enrolled_on or enrolled.coverage_start)
        owed = last_month_billable(ended_on, YearMonth.of(start), YearMonth.of(enrolled.coverage_end))
    events: list[DomainEvent] = [
        CoverageEnded(
            worker_id=request.worker_id,
            programme_code=request.programme_code,
            regency_code=request.regency_code,
            funder=request.funder,
            ended_on=ended_on,
            last_month_billable=None if owed is None else str(owed),
            reason=reason,
            kpj=enrolled.kpj if enrolled else None,
            cause_event_id=None if cause_event_id is None else str(cause_event_id),
        )
    ]
    if enrolled is not None:
        events.append(_stop(request, enrolled.kpj, ended_on, reason))
    return events


def _stop_after_end(h: RegistrationHistory, answer: RegistrationAccepted) -> list[DomainEvent]:
    """An acceptance after the registration was cancelled: BPJS registered the person anyway, so
    the KPJ it answered is stopped (once)."""
    assert h.ended is not None
    if h.stop is not None:
        return []
    return [_stop(h.request, answer.kpj, h.ended.ended_on, h.ended.reason)]


async def apply_release(
    conn: AsyncConnection, store: EventStore, release: QuotaReleased, cause: Envelope, today: date
) -> ReleaseAction:
    """Record what allocation's release of a worker does to their registration under that
    programme (domain/release.py), dated `today` (the business calendar). A worker enrollment
    never asked BPJS about (waitlisted, or never assigned here) has nothing to end."""
    stream = registration_stream(release.worker_id, release.programme_code)
    await conn.execute(
        select(registrations.c.status)
        .where(
            registrations.c.worker_id == release.worker_id,
            registrations.c.programme_code == release.programme_code,
        )
        .with_for_update()
    )
    history, last_hash = await store.load_chained(conn, stream)
    h = fold(history)
    if h is None:
        return ReleaseAction.NOTHING
    action = release_action(h.state.status, h.ended is not None)
    if action is ReleaseAction.NOTHING:
        return action
    enrolled = h.enrolled if action is ReleaseAction.END else None
    events = end_events(h.request, enrolled, release.reason, today, cause.event_id)
    await _append(conn, store, stream, h, events, cause, last_hash)
    return action


async def end_membership(
    conn: AsyncConnection,
    store: EventStore,
    worker_id: str,
    programme_code: str,
    months_unpaid: Sequence[YearMonth],
    ended_on: date,
    arrears_months_allowed: int,
) -> bool:
    """MembershipEnded, CoverageEnded(membership_ended) and the stop-payment, unless the
    registration is not enrolled or already ended (then False)."""
    stream = registration_stream(worker_id, programme_code)
    history, last_hash = await store.load_chained(conn, stream)
    h = fold(history)
    if h is None or h.ended is not None or h.enrolled is None:
        return False
    ended = MembershipEnded(
        worker_id=worker_id,
        programme_code=programme_code,
        regency_code=h.request.regency_code,
        kpj=h.enrolled.kpj,
        months_unpaid=[str(m) for m in months_unpaid],
        ended_on=ended_on,
        arrears_months_allowed=arrears_months_allowed,
    )
    events = [ended, *end_events(h.request, h.enrolled, "membership_ended", ended_on, None)]
    await _append(conn, store, stream, h, events, None, last_hash)
    return True


async def on_clock_stop(
    conn: AsyncConnection,
    store: EventStore,
    config: EnrollmentConfig,
    worker_id: str,
    programme_code: str,
    *,
    now: datetime,
) -> str | None:
    """Send a stop-payment again (attempt + 1) when BPJS left the latest attempt unanswered."""
    stream = registration_stream(worker_id, programme_code)
    history, last_hash = await store.load_chained(conn, stream)
    h = fold(history)
    if h is None or h.stop is None or h.stop_sent_at is None or h.stop_event_id is None:
        return None
    if not deregistration_overdue(h.stop_sent_at, now, config.answer_timeout):
        return None
    again = h.stop.model_copy(update={"attempt": h.stop.attempt + 1})
    await store.append(
        conn,
        stream,
        [again],
        expected_version=h.version,
        expected_hash=last_hash,
        correlation_id=h.correlation_id,
        causation_id=h.stop_event_id,
    )
    return "retry"


async def first_stop_answer(
    conn: AsyncConnection, answer: DeregistrationConfirmed | DeregistrationRejected
) -> bool | None:
    """Whether BPJS's answer to a stop-payment is its first (True) or a repeat (False); None when
    Lindung never sent that stop-payment. The projection records the first (once)."""
    row = (
        await conn.execute(
            select(deregistrations.c.status, deregistrations.c.worker_id)
            .where(deregistrations.c.request_id == answer.request_id)
            .with_for_update()
        )
    ).first()
    if row is None or row.worker_id != answer.worker_id:
        return None
    return bool(row.status == "requested")
