"""Answers to inbound messages the consumer parks (`lindung.nominations.inbound.v1`).

A message the registry cannot read (not JSON, not an envelope, a payload off the schema, a schema
version it does not know) is parked in `lindung.registry.dlq.v1` by the inbox consumer, which
calls the registry's `parked` in the same transaction: the sender gets a NominationRejected with
status `malformed` and a MESSAGE_* code. So is a message from a producer the topic does not allow
(libs/events/topics.py): a regency system writes as `regency-<its code>` and nominates for its own
regency only. It is answered with status `invalid` and PRODUCER_NOT_ALLOWED or
PRODUCER_OUT_OF_SCOPE, and never decided; so is a message whose signature does not prove its
sender (SIGNATURE_*, docs/security.md), answered by its Kafka key alone.
"""

from __future__ import annotations

from typing import Any

from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from libs.events import Envelope, decode
from libs.events.catalog import UnsupportedVersion, contract_for
from libs.events.contracts.common import Reason
from libs.events.contracts.registry import NominationRejected
from libs.events.signing import SignatureRefused
from libs.events.topics import ProducerRefused
from libs.eventstore.ports import StoreTransaction
from libs.pii import redact_niks
from services.registry.application.inbound import send_replies
from services.registry.domain.answers import Answer, AnswerCode, answer
from services.registry.domain.dates import birth_date_answer
from services.registry.domain.decisions import reason_of
from services.registry.domain.replies import Reply, reply_stream


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


def refusal(record: ConsumerRecord[bytes, bytes], envelope: Envelope | None, error: BaseException) -> Reply:
    """The NominationRejected answering an inbound message that is being parked."""
    stream = (
        reply_stream(envelope.event_id)
        if envelope is not None
        else reply_stream(f"{record.topic}-{record.partition}-{record.offset}")
    )
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
    return Reply(stream, reply)


async def answer_parked(
    tx: StoreTransaction,
    record: ConsumerRecord[bytes, bytes],
    envelope: Envelope | None,
    error: BaseException,
) -> None:
    """Reply NominationRejected to an inbound message that is being parked (same transaction;
    a request answered already, then parked again after a redelivery, is not answered twice)."""
    await send_replies(tx, [(envelope, refusal(record, envelope, error))])
