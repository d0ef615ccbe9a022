"""Nominations published by regency systems on `lindung.nominations.inbound.v1`, and the replies.

Each NominationSubmitted is decided by the same handler as an HTTP nomination (in the consumer's
transaction) and answered on `lindung.nominations.replies.v1` with NominationAccepted or
NominationRejected, keyed by the request's `source_ref`. The reply is an event of the registry
(stream `inbound-<request event id>`), so it leaves through the outbox exactly when the decision
is committed, and a redelivered request is not answered twice.

Sending the same `source_ref` again (same regency system, same programme) is not a second
nomination: if the first was rejected, the new content corrects it (NominationCorrected and a new
decision); otherwise the earlier answer is repeated (`repeated: true`) and nothing changes.

A message the registry cannot read (not JSON, not an envelope, a payload off the schema, a schema
version it does not know) is parked in `lindung.registry.dlq.v1` by the inbox consumer, which
calls :func:`answer_parked` in the same transaction: the sender gets a NominationRejected with
status `malformed` and a MESSAGE_* code. So is a message from a producer the topic does not allow
(libs/events/topics.py): a regency system writes as `regency-<its code>` and nominates for its own
regency only. It is answered with status `invalid` and PRODUCER_NOT_ALLOWED or
PRODUCER_OUT_OF_SCOPE, and never decided; so is a message whose signature does not prove its
sender (SIGNATURE_*, docs/security.md), answered by its Kafka key alone.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from typing import Any

from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError
from sqlalchemy import select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope, decode
from libs.events.catalog import UnsupportedVersion, contract_for
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.common import Reason
from libs.events.contracts.registry import NominationAccepted, NominationRejected, NominationSubmitted
from libs.events.signing import SignatureRefused
from libs.events.topics import ProducerRefused
from libs.eventstore.store import EventStore
from libs.pii import redact_niks
from libs.settings import Settings
from services.registry.adapters.tables import nominations
from services.registry.application.changes import ChangeRefused, Correction, correct_in, locked_state
from services.registry.application.commands import NominateWorker
from services.registry.application.nominate import (
    NominationRequest,
    NominationResult,
    ProgrammeRefused,
    hold_reference_lock,
    nominate_many_in,
    normalized,
    reason_of,
)
from services.registry.application.streams import CORRECTABLE, NominationState
from services.registry.domain.answers import Answer, AnswerCode, answer
from services.registry.domain.dates import birth_date_answer


def reply_stream(request_id: uuid.UUID | str) -> str:
    return f"inbound-{request_id}"


async def _reply(
    conn: AsyncConnection, store: EventStore, request: Envelope | None, stream: str, reply: DomainEvent
) -> None:
    await store.append(
        conn,
        stream,
        [reply],
        expected_version=0,
        correlation_id=request.correlation_id if request else uuid.uuid4(),
        causation_id=request.event_id if request else None,
    )


def _reply_for(
    request: Envelope, event: NominationSubmitted, result: NominationResult, *, repeated: bool = False
) -> NominationAccepted | NominationRejected:
    common: dict[str, Any] = {
        "request_event_id": request.event_id,
        "source_ref": event.source_ref,
        "regency_system": request.producer,
        "programme_code": event.programme_code,
        "reference_version": result.reference_version,
        "repeated": repeated,
    }
    if result.status == "validated":
        assert result.nomination_id is not None
        return NominationAccepted(
            nomination_id=result.nomination_id, worker_id=result.worker_id, notes=result.notes, **common
        )
    return NominationRejected(
        nomination_id=result.nomination_id,
        worker_id=result.worker_id if result.nomination_id else None,
        status="rejected" if result.status == "rejected" else "invalid",
        reasons=result.reasons,
        **common,
    )


def _as_result(state: NominationState) -> NominationResult:
    return NominationResult(
        state.nomination_id, state.worker_id, state.status, list(state.reasons), state.reference_version
    )


async def _earlier(conn: AsyncConnection, producer: str, event: NominationSubmitted) -> str | None:
    """The nomination this regency system already sent under the same source_ref, if any."""
    row = (
        await conn.execute(
            select(nominations.c.nomination_id)
            .where(
                nominations.c.channel == "kafka",
                nominations.c.submitted_by == producer,
                nominations.c.source_ref == event.source_ref,
                nominations.c.programme_code == event.programme_code,
                nominations.c.status != "withdrawn",
            )
            .order_by(nominations.c.nominated_at.desc())
            .limit(1)
        )
    ).first()
    return row.nomination_id if row else None


async def handle_submitted(
    conn: AsyncConnection,
    store: EventStore,
    request: Envelope,
    event: NominationSubmitted,
    settings: Settings,
    today: date,
) -> None:
    """Decide one inbound nomination and queue its reply, in the consumer's transaction."""
    try:
        cmd = normalized(NominateWorker.model_validate(event.model_dump()))
    except ValidationError:  # e.g. a programme code of spaces only
        invalid = NominationResult(None, "", "invalid", [reason_of(answer(AnswerCode.NOMINATION_INVALID))])
        reply = _reply_for(request, event, invalid)
        await _reply(conn, store, request, reply_stream(request.event_id), reply)
        return
    rules: dict[str, Any] = {
        "pepper": settings.nik_pepper,
        "today": today,
        "correlation_id": request.correlation_id,
        "causation_id": request.event_id,
    }
    repeated = False
    # The reference-data lock before any row lock, in the same order as every other decision.
    await hold_reference_lock(conn)
    try:
        earlier = await _earlier(conn, request.producer, event)
        if earlier is None:
            (result,) = await nominate_many_in(
                conn,
                store,
                [NominationRequest(cmd)],
                programme_code=cmd.programme_code,
                channel="kafka",
                submitted_by=request.producer,
                **rules,
            )
        else:
            result, repeated = await _again(conn, store, earlier, cmd, request.producer, rules)
    except ProgrammeRefused as exc:
        result = NominationResult(None, "", "invalid", [reason_of(exc.answer)])
    await _reply(
        conn,
        store,
        request,
        reply_stream(request.event_id),
        _reply_for(request, event, result, repeated=repeated),
    )


SenderKey = tuple[str, str, str]  # (producer, source_ref, programme_code)


async def _sent_before(conn: AsyncConnection, keys: set[SenderKey]) -> set[SenderKey]:
    """Which of `keys` a regency system already sent (a live nomination under that source_ref)."""
    if not keys:
        return set()
    rows = await conn.execute(
        select(nominations.c.submitted_by, nominations.c.source_ref, nominations.c.programme_code)
        .where(
            nominations.c.channel == "kafka",
            nominations.c.status != "withdrawn",
            tuple_(nominations.c.submitted_by, nominations.c.source_ref, nominations.c.programme_code).in_(
                sorted(keys)
            ),
        )
        .distinct()
    )
    return {(r.submitted_by, r.source_ref, r.programme_code) for r in rows}


async def handle_submitted_batch(
    conn: AsyncConnection,
    store: EventStore,
    items: Sequence[tuple[Envelope, NominationSubmitted]],
    settings: Settings,
    today: date,
) -> None:
    """Decide inbound nominations with the effects of `handle_submitted` on each, in order.

    A message sent for the first time joins the run of first-time messages before it for the
    same programme, and the run is decided as one list (a handful of statements instead of a
    dozen per message; the profile of `lindung bench pipeline` showed the one-by-one path as the
    registry's whole cost). Anything else — a source_ref sent before or earlier in this batch,
    a message that does not make a command — first closes the run, then goes alone.
    """
    sent = await _sent_before(conn, {(r.producer, e.source_ref, e.programme_code) for r, e in items})
    run: list[tuple[Envelope, NominationSubmitted, NominateWorker]] = []
    for request, event in items:
        key = (request.producer, event.source_ref, event.programme_code)
        cmd = _command(event)
        if cmd is None or key in sent or (run and run[0][2].programme_code != cmd.programme_code):
            await _decide_run(conn, store, run, settings, today)
            run = []
        if cmd is None or key in sent:
            await handle_submitted(conn, store, request, event, settings, today)
        else:
            run.append((request, event, cmd))
        sent.add(key)
    await _decide_run(conn, store, run, settings, today)


def _command(event: NominationSubmitted) -> NominateWorker | None:
    try:
        return normalized(NominateWorker.model_validate(event.model_dump()))
    except ValidationError:  # handle_submitted answers it
        return None


async def _decide_run(
    conn: AsyncConnection,
    store: EventStore,
    run: Sequence[tuple[Envelope, NominationSubmitted, NominateWorker]],
    settings: Settings,
    today: date,
) -> None:
    """First-time nominations of one programme, decided as one list; a reply to each."""
    if not run:
        return
    requests = [
        NominationRequest(
            cmd,
            submitted_by=request.producer,
            correlation_id=request.correlation_id,
            causation_id=request.event_id,
        )
        for request, _, cmd in run
    ]
    try:
        results = await nominate_many_in(
            conn,
            store,
            requests,
            programme_code=run[0][2].programme_code,
            channel="kafka",
            submitted_by=run[0][0].producer,
            pepper=settings.nik_pepper,
            today=today,
        )
    except ProgrammeRefused as exc:
        results = [NominationResult(None, "", "invalid", [reason_of(exc.answer)]) for _ in run]
    for (request, event, _), result in zip(run, results, strict=True):
        await _reply(conn, store, request, reply_stream(request.event_id), _reply_for(request, event, result))


async def _again(
    conn: AsyncConnection,
    store: EventStore,
    nomination_id: str,
    cmd: NominateWorker,
    producer: str,
    rules: dict[str, Any],
) -> tuple[NominationResult, bool]:
    """A source_ref sent again: correct it when it was rejected, else repeat the answer."""
    _, state, _ = await locked_state(conn, store, nomination_id)
    changes = {
        name: getattr(cmd, name) for name in CORRECTABLE if getattr(cmd, name) != getattr(state.source, name)
    }
    if state.status != "rejected" or not changes:
        return _as_result(state), True
    correction = Correction(
        changes, corrected_by=producer, note="dikirim ulang oleh sistem kabupaten", channel="kafka"
    )
    try:
        return await correct_in(conn, store, nomination_id, correction, **rules), False
    except ChangeRefused:
        return _as_result(state), True


def classify(envelope: Envelope | None, error: BaseException) -> tuple[str, Answer]:
    """Why an inbound message was parked: (reply status, answer with a MESSAGE_* code)."""
    if envelope is None:
        return "malformed", answer(AnswerCode.MESSAGE_MALFORMED, error=_describe(error, "amplop"))
    try:
        decode(envelope)
    except UnsupportedVersion:
        supported = str(contract_for(envelope.event_type).schema_version)
        return "malformed", answer(
            AnswerCode.MESSAGE_VERSION_UNSUPPORTED,
            event_type=envelope.event_type,
            schema_version=str(envelope.schema_version),
            supported=supported,
        )
    except (ValueError, LookupError) as exc:
        not_a_date = birth_date_answer(exc.errors()) if isinstance(exc, ValidationError) else None
        if not_a_date is not None:
            # Readable, but the birth date does not exist: the same answer as the API and upload.
            return "invalid", not_a_date
        return "malformed", answer(
            AnswerCode.MESSAGE_SCHEMA_INVALID,
            event_type=envelope.event_type,
            schema_version=str(envelope.schema_version),
            fields=_fields(exc) or type(exc).__name__,
        )
    # It reads fine: the registry failed on it (after the consumer's retries).
    return "unprocessed", answer(AnswerCode.NOMINATION_NOT_PROCESSED, error_type=type(error).__name__)


def _fields(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        locs = [".".join(str(part) for part in e["loc"]) or "(seluruh isi)" for e in exc.errors()]
        return ", ".join(dict.fromkeys(locs))
    return ""


def _describe(error: BaseException, what: str) -> str:
    if isinstance(error, ValidationError):
        kinds = {e["type"] for e in error.errors()}
        if kinds & {"json_invalid", "json_type"}:
            return "JSON tidak sah"
        return f"kolom {what} tidak sesuai: {_fields(error)}"
    return redact_niks(type(error).__name__)


def _text(value: Any, limit: int = 100) -> str | None:
    return value[:limit] if isinstance(value, str) and value else None


async def answer_parked(
    conn: AsyncConnection,
    store: EventStore,
    record: ConsumerRecord[bytes, bytes],
    envelope: Envelope | None,
    error: BaseException,
) -> None:
    """Reply NominationRejected to an inbound message that is being parked (same transaction)."""
    stream = (
        reply_stream(envelope.event_id)
        if envelope is not None
        else reply_stream(f"{record.topic}-{record.partition}-{record.offset}")
    )
    version, _ = await store.head(conn, stream)
    if version:
        return  # this request was answered already (parked again after a redelivery)
    if isinstance(error, ProducerRefused | SignatureRefused):
        # Not the sender's data but the sender itself (its name, its signature): nothing was
        # recorded or decided. A signature refusal comes without the envelope (nothing unproven
        # is read): the reply names the request by its key.
        status, reason = "invalid", Reason(code=error.code, message=error.message, details=error.details)
    else:
        status, why = classify(envelope, error)
        reason = reason_of(why)
    payload = envelope.payload if envelope is not None else {}
    reply = NominationRejected(
        request_event_id=envelope.event_id if envelope else None,
        source_ref=_text(payload.get("source_ref")),
        regency_system=envelope.producer if envelope else None,
        programme_code=_text(payload.get("programme_code"), 60),
        status=status,
        reasons=[reason],
        request_key=record.key.decode(errors="replace")[:200] if record.key else None,
    )
    await _reply(conn, store, envelope, stream, reply)
