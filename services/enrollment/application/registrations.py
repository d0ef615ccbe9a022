"""Registrations at BPJS as event streams, decided by the domain's state machine (registration.py).

One stream per worker and programme, `registration-{worker_id}:{programme_code}`, holds every
attempt sent (RegistrationRequested 1, 2, ...), every retry scheduled, and the outcome
(EnrolledAtBPJS or EnrollmentFailed). The stream is folded back into the domain's
`Registration` to decide on each BPJS answer, timeout or due retry; the new events are appended
with the version read, so two deciders racing on one stream cannot both win.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope, decode
from libs.events.contracts.allocation import AssignmentDecreed, QuotaAssigned
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import RegistrationAccepted, RegistrationRejected, RegistrationRequested
from libs.events.contracts.enrollment import (
    EnrolledAtBPJS,
    EnrollmentFailed,
    KpjConflictDetected,
    RegistrationRetryScheduled,
)
from libs.eventstore.batch import StreamAppend, append_batch
from libs.eventstore.store import EventStore
from services.enrollment.adapters.projections import project_batch
from services.enrollment.adapters.tables import registrations
from services.enrollment.application.config import EnrollmentConfig
from services.enrollment.domain import registration as domain
from services.enrollment.domain.registration import Registration, RegistrationStatus, ResultOutcome

TIMEOUT = "TIMEOUT"


def registration_stream(worker_id: str, programme_code: str) -> str:
    """One stream per worker and programme: at most one registration each."""
    return f"registration-{worker_id}:{programme_code}"


def request_id_of(worker_id: str, programme_code: str) -> str:
    """The id BPJS echoes back; it names the registration stream."""
    return f"{worker_id}:{programme_code}"


def stream_of_request(request_id: str) -> str:
    return f"registration-{request_id}"


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


def fold(history: Sequence[Envelope]) -> RegistrationHistory | None:
    """The registration a stream records (None for an empty stream)."""
    request: RegistrationRequested | None = None
    state: Registration | None = None
    sent_at: datetime | None = None
    last_request: Envelope | None = None
    for envelope in history:
        event = decode(envelope)
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
            state = replace(
                state, status=RegistrationStatus.ENROLLED, kpj=event.kpj, failure_reason=None, retry_at=None
            )
        elif isinstance(event, EnrollmentFailed):
            state = replace(
                state, status=RegistrationStatus.FAILED, failure_reason=event.reason, retry_at=None
            )
    if request is None or state is None or sent_at is None or last_request is None:
        return None
    return RegistrationHistory(
        request, state, len(history), sent_at, history[0].correlation_id, last_request.event_id
    )


Assignment = QuotaAssigned | AssignmentDecreed
Answer = RegistrationAccepted | RegistrationRejected


def first_request(event: Assignment) -> RegistrationRequested:
    """Attempt 1 of the registration an assignment (or its decree) calls for."""
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
    )


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
    appends: list[StreamAppend] = []
    for (event, cause), stream in zip(assignments, streams, strict=True):
        if stream in requested:
            continue
        requested.add(stream)
        appends.append(
            StreamAppend(
                stream,
                [first_request(event)],
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
        return [
            EnrolledAtBPJS(
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
            )
        ]
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
        registered_at = answer.registered_at if isinstance(answer, RegistrationAccepted) else None
        change = domain.apply_result(h.state, result, config.retry, received_at, jitter)
        events = _events_for(h, change, result, config, registered_at)
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
    if h is None or h.state.status is not RegistrationStatus.REQUESTED:
        return None
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
