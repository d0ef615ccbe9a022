"""Personal fields at the envelope boundary: sealed when an event is stored, opened when read.

The event store seals the personal fields a contract declares (`DomainEvent.personal_fields`)
under the key of the person its `worker_id` names, so the `events` table, the outbox, the topics
and every consumer's inbox hold ciphertext, and the hash chain covers the ciphertext. Whoever
needs the clear values (a consumer's handler, a projection, an aggregate loaded from its stream,
the relay sending to BPJS) opens the envelope: one vault query for a whole batch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, Text, Uuid, cast, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import topics
from libs.events.contracts.base import DomainEvent
from libs.events.envelope import Envelope
from libs.pii import ENCRYPTED_FIELDS, FORGOTTEN
from libs.privacy.cipher import DataKey, is_encrypted, open_payload, seal_payload
from libs.privacy.vault import KeyVault
from libs.sql_arrays import unnest_arrays

# Topics read outside Lindung whose readers need the clear identity: BPJS registers participants
# by NIK, name and birth date. The relay opens these records when it sends them; the topic then
# holds them in clear for its retention (LINDUNG_KAFKA_TOPIC_RETENTION_MS).
OPENED_FOR = frozenset({topics.BPJS_REQUESTS})


def subject_of(event: DomainEvent) -> str | None:
    """The person whose key seals `event`'s personal fields (None: nothing to seal)."""
    if not event.personal_fields:
        return None
    worker_id = getattr(event, "worker_id", None)
    return str(worker_id) if worker_id else None


def _has_clear(value: Any, fields: frozenset[str]) -> bool:
    if isinstance(value, dict):
        return any(
            (key in fields and item is not None and item != FORGOTTEN and not is_encrypted(item))
            or _has_clear(item, fields)
            for key, item in value.items()
        )
    if isinstance(value, list):
        return any(_has_clear(item, fields) for item in value)
    return False


def subjects_to_seal(events: Sequence[DomainEvent], payloads: Sequence[dict[str, Any]]) -> list[str]:
    """The persons whose keys sealing `events` (JSON forms `payloads`) needs: those with a clear
    personal value (an identity copied from another event is sealed already; a forgotten one
    stays the marker)."""
    found: list[str] = []
    for event, payload in zip(events, payloads, strict=True):
        subject = subject_of(event)
        if subject is not None and _has_clear(payload, event.personal_fields):
            found.append(subject)
    return found


def sealed_payload(
    event: DomainEvent, payload: dict[str, Any], keys: Mapping[str, DataKey]
) -> dict[str, Any]:
    """`payload` (event's JSON form) with its clear personal fields encrypted; as it is when the
    event has none (or the store seals nothing: `keys` empty)."""
    subject = subject_of(event)
    key = keys.get(subject) if subject is not None else None
    if key is None:
        return payload
    return seal_payload(payload, key, event.personal_fields)


def _sealed_subject(payload: dict[str, Any]) -> str | None:
    if not _has_ciphertext(payload):
        return None
    worker_id = payload.get("worker_id")
    return str(worker_id) if worker_id else None


def _has_ciphertext(value: Any) -> bool:
    if isinstance(value, dict):
        return any(_has_ciphertext(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_ciphertext(item) for item in value)
    return is_encrypted(value)


async def open_envelopes(
    conn: AsyncConnection, vault: KeyVault | None, envelopes: Sequence[Envelope]
) -> list[Envelope]:
    """`envelopes` with their personal fields clear again (one vault query for all), or
    FORGOTTEN where the person's key is gone. Clear envelopes (written before encryption, or by
    a foreign system) come back as they are; without a vault, ciphertexts read as FORGOTTEN."""
    subjects = {s for s in (_sealed_subject(e.payload) for e in envelopes) if s is not None}
    if not subjects:
        return list(envelopes)
    keys = await vault.keys(conn, subjects) if vault is not None else {}
    opened: list[Envelope] = []
    for envelope in envelopes:
        subject = _sealed_subject(envelope.payload)
        if subject is None:
            opened.append(envelope)
            continue
        payload = open_payload(envelope.payload, keys.get(subject), ENCRYPTED_FIELDS)
        opened.append(envelope.model_copy(update={"payload": payload}))
    return opened


async def seal_inbox_copies(
    conn: AsyncConnection, vault: KeyVault | None, inbox: Table, copies: Sequence[tuple[Envelope, str]]
) -> None:
    """Seal the personal fields of foreign messages (a regency system's nomination, BPJS's
    ClaimPaid: they come in clear) in the inbox rows the consumer wrote for them in this
    transaction, each under the key of the person given (`copies`: envelope, subject). The
    inbox keeps its evidence, and a forgotten person's copy is unreadable like the rest."""
    if vault is None or not copies:
        return
    keys = await vault.keys_for_writing(conn, [subject for _, subject in copies])
    sealed = [
        envelope.model_copy(
            update={"payload": seal_payload(envelope.payload, keys[subject], ENCRYPTED_FIELDS)}
        ).model_dump_json()
        for envelope, subject in copies
    ]
    # One statement for the batch (arrays unnested), not one execution per copy.
    source = unnest_arrays(
        {"copy_id": Uuid(), "sealed": Text()}, [[e.event_id for e, _ in copies], sealed], name="copies"
    )
    statement = (
        update(inbox)
        .where(inbox.c.event_id == source.c.copy_id)
        .values(envelope=cast(source.c.sealed, JSONB))
    )
    await conn.execute(statement)


def _masked_where_sealed(value: Any, other: Any) -> tuple[Any, Any]:
    if isinstance(value, dict) and isinstance(other, dict):
        pairs = {k: _masked_where_sealed(value.get(k), other.get(k)) for k in set(value) | set(other)}
        return (
            {k: a for k, (a, _) in pairs.items() if k in value},
            {k: b for k, (_, b) in pairs.items() if k in other},
        )
    if isinstance(value, list) and isinstance(other, list) and len(value) == len(other):
        pairs_list = [_masked_where_sealed(a, b) for a, b in zip(value, other, strict=True)]
        return [a for a, _ in pairs_list], [b for _, b in pairs_list]
    if value != other and (is_encrypted(value) or is_encrypted(other)):
        return "<sealed>", "<sealed>"
    return value, other


def alike_but_sealing(copy: dict[str, Any], stored: dict[str, Any]) -> bool:
    """Whether two payloads are equal but where one holds a personal field sealed and the other
    in clear (a foreign message's inbox copy is sealed; what the relay sends BPJS is opened):
    every other field must be equal."""
    a, b = _masked_where_sealed(copy, stored)
    return bool(a == b)


def read_without_keys(envelope: Envelope) -> Envelope:
    """`envelope` as whoever holds no key reads it: every sealed field FORGOTTEN (the contracts
    admit that), every other field as it is."""
    if not _has_ciphertext(envelope.payload):
        return envelope
    return envelope.model_copy(update={"payload": open_payload(envelope.payload, None, ENCRYPTED_FIELDS)})
