"""Appending to and reading from one service's event store, with its outbox in the same transaction."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.contracts.base import DomainEvent
from libs.events.envelope import Envelope, utcnow
from libs.eventstore.append_sql import append_parameters, append_statement
from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.hashing import GENESIS_HASH, chain_hash
from libs.eventstore.tables import EventStoreTables
from libs.privacy.cipher import DataKey
from libs.privacy.envelopes import open_envelopes, sealed_payload, subjects_to_seal
from libs.privacy.vault import KeyVault


def outbox_row(envelope: Envelope, topic: str, key: str | None) -> dict[str, Any]:
    """The outbox row that publishes `envelope` on `topic`."""
    return {
        "event_id": envelope.event_id,
        "topic": topic,
        "key": key.encode() if key is not None else None,
        "value": envelope.to_bytes(),
        "headers": [
            ["event_type", envelope.event_type],
            ["schema_version", str(envelope.schema_version)],
            ["producer", envelope.producer],
        ],
    }


def row_to_envelope(row: Any) -> Envelope:
    """An `events` row back as its envelope."""
    return Envelope(
        event_id=row.event_id,
        event_type=row.event_type,
        schema_version=row.schema_version,
        occurred_at=row.occurred_at,
        aggregate_id=row.aggregate_id,
        aggregate_version=row.aggregate_version,
        correlation_id=row.correlation_id,
        causation_id=row.causation_id,
        producer=row.producer,
        payload=row.payload,
    )


@dataclass(frozen=True)
class Appended:
    """What an append wrote: the envelopes (personal fields clear), and the stream head after them."""

    envelopes: list[Envelope]
    version: int
    last_hash: str


@dataclass(frozen=True)
class ChainedRows:
    """The `events` and `outbox` rows of events appended after (version, prev_hash) of a stream."""

    envelopes: list[Envelope]
    event_rows: list[dict[str, Any]]
    outbox_rows: list[dict[str, Any]]
    version: int
    last_hash: str
    # The envelopes with their personal fields clear, for projections and callers (`envelopes`
    # is what is stored and sent: sealed where keys were given).
    clear: list[Envelope]


def chained_rows(
    producer: str,
    aggregate_id: str,
    events: Sequence[DomainEvent],
    *,
    version: int,
    prev_hash: str,
    occurred_at: datetime,
    correlation_id: uuid.UUID,
    causation_id: uuid.UUID | None,
    payloads: Sequence[dict[str, Any]] | None = None,
    keys: Mapping[str, DataKey] | None = None,
) -> ChainedRows:
    """Envelopes for `events` at the versions after `version`, each hash-chained to the last.

    `payloads` are the events' JSON forms when the caller made them already; with `keys` (the
    persons' data keys, libs/privacy) their personal fields are stored and sent encrypted."""
    envelopes: list[Envelope] = []
    clear: list[Envelope] = []
    event_rows: list[dict[str, Any]] = []
    outbox_rows: list[dict[str, Any]] = []
    for index, event in enumerate(events):
        version += 1
        payload = payloads[index] if payloads is not None else event.model_dump(mode="json")
        stored = sealed_payload(event, payload, keys) if keys else payload
        envelope = Envelope(
            event_type=event.event_type,
            schema_version=event.schema_version,
            occurred_at=occurred_at,
            aggregate_id=aggregate_id,
            aggregate_version=version,
            correlation_id=correlation_id,
            causation_id=causation_id,
            producer=producer,
            payload=stored,
        )
        clear.append(envelope if stored is payload else envelope.model_copy(update={"payload": payload}))
        digest = chain_hash(prev_hash, envelope)
        event_rows.append(
            {
                "event_id": envelope.event_id,
                "aggregate_id": aggregate_id,
                "aggregate_version": version,
                "event_type": envelope.event_type,
                "schema_version": envelope.schema_version,
                "occurred_at": envelope.occurred_at,
                "correlation_id": envelope.correlation_id,
                "causation_id": envelope.causation_id,
                "producer": envelope.producer,
                "payload": envelope.payload,
                "prev_hash": prev_hash,
                "hash": digest,
            }
        )
        outbox_rows.append(outbox_row(envelope, event.topic, event.partition_key() or aggregate_id))
        envelopes.append(envelope)
        prev_hash = digest
    return ChainedRows(envelopes, event_rows, outbox_rows, version, prev_hash, clear)


Projector = Callable[[AsyncConnection, Envelope], Awaitable[None]]


async def no_projection(conn: AsyncConnection, envelope: Envelope) -> None:
    """The projector of a service without read models (and the marker audits look for)."""
    return None


class EventStore:
    """The append-only event store of one service schema.

    `projector` updates the service's read models from each appended event inside the same
    transaction, so a read model never disagrees with the log it is built from.
    """

    def __init__(
        self,
        tables: EventStoreTables,
        producer: str,
        projector: Projector = no_projection,
        vault: KeyVault | None = None,
    ) -> None:
        self.tables = tables
        self.producer = producer
        self.projector = projector
        # With a vault, personal fields are stored encrypted per person and opened when loaded
        # (libs/privacy, docs/security.md "Forgetting a person"); without, stored as they are.
        self.vault = vault

    async def sealing_keys(
        self, conn: AsyncConnection, events: Sequence[DomainEvent], payloads: Sequence[dict[str, Any]]
    ) -> dict[str, DataKey]:
        """The data keys sealing `events` needs (one query; none without a vault)."""
        if self.vault is None:
            return {}
        subjects = subjects_to_seal(events, payloads)
        return await self.vault.keys_for_writing(conn, subjects) if subjects else {}

    async def opened(self, conn: AsyncConnection, envelopes: list[Envelope]) -> list[Envelope]:
        """`envelopes` with their personal fields clear (FORGOTTEN where the key is gone)."""
        return await open_envelopes(conn, self.vault, envelopes)

    async def head(self, conn: AsyncConnection, aggregate_id: str) -> tuple[int, str]:
        """The stream's current version and last hash ((0, genesis) for a new stream)."""
        events = self.tables.events
        row = (
            await conn.execute(
                select(events.c.aggregate_version, events.c.hash)
                .where(events.c.aggregate_id == aggregate_id)
                .order_by(events.c.aggregate_version.desc())
                .limit(1)
            )
        ).first()
        return (row.aggregate_version, row.hash) if row else (0, GENESIS_HASH)

    async def heads(self, conn: AsyncConnection, aggregate_ids: Sequence[str]) -> dict[str, tuple[int, str]]:
        """`head` of many streams in one query (a stream missing from the answer is new)."""
        events = self.tables.events
        rows = await conn.execute(
            select(events.c.aggregate_id, events.c.aggregate_version, events.c.hash)
            .where(events.c.aggregate_id.in_(sorted(set(aggregate_ids))))
            .order_by(events.c.aggregate_id, events.c.aggregate_version.desc())
            .ext(distinct_on(events.c.aggregate_id))
        )
        return {r.aggregate_id: (r.aggregate_version, r.hash) for r in rows}

    async def load(self, conn: AsyncConnection, aggregate_id: str) -> list[Envelope]:
        """Every event of one stream, in version order."""
        envelopes, _ = await self.load_chained(conn, aggregate_id)
        return envelopes

    async def load_chained(self, conn: AsyncConnection, aggregate_id: str) -> tuple[list[Envelope], str]:
        """Every event of one stream, and the hash of its last (to append without a head query)."""
        events = self.tables.events
        stream = select(events).where(events.c.aggregate_id == aggregate_id)
        rows = (await conn.execute(stream.order_by(events.c.aggregate_version))).all()
        envelopes = await self.opened(conn, [row_to_envelope(r) for r in rows])
        return envelopes, rows[-1].hash if rows else GENESIS_HASH

    async def load_many(
        self, conn: AsyncConnection, aggregate_ids: Sequence[str]
    ) -> dict[str, tuple[list[Envelope], str]]:
        """`load_chained` of many streams in one query (a new stream: ([], genesis))."""
        events = self.tables.events
        rows = await conn.execute(
            select(events)
            .where(events.c.aggregate_id.in_(sorted(set(aggregate_ids))))
            .order_by(events.c.aggregate_id, events.c.aggregate_version)
        )
        found: dict[str, tuple[list[Envelope], str]] = {a: ([], GENESIS_HASH) for a in aggregate_ids}
        loaded = [(row.aggregate_id, row.hash, row_to_envelope(row)) for row in rows]
        opened = await self.opened(conn, [envelope for _, _, envelope in loaded])
        for (aggregate_id, digest, _), envelope in zip(loaded, opened, strict=True):
            history, _ = found[aggregate_id]
            history.append(envelope)
            found[aggregate_id] = (history, digest)
        return found

    async def append(
        self,
        conn: AsyncConnection,
        aggregate_id: str,
        events: Sequence[DomainEvent],
        *,
        expected_version: int | None,
        correlation_id: uuid.UUID,
        causation_id: uuid.UUID | None = None,
        occurred_at: datetime | None = None,
        expected_hash: str | None = None,
    ) -> list[Envelope]:
        """Append `events` to a stream and queue them in the outbox (see `append_chained`)."""
        appended = await self.append_chained(
            conn,
            aggregate_id,
            events,
            expected_version=expected_version,
            correlation_id=correlation_id,
            causation_id=causation_id,
            occurred_at=occurred_at,
            expected_hash=expected_hash,
        )
        return appended.envelopes

    async def append_chained(
        self,
        conn: AsyncConnection,
        aggregate_id: str,
        events: Sequence[DomainEvent],
        *,
        expected_version: int | None,
        correlation_id: uuid.UUID,
        causation_id: uuid.UUID | None = None,
        occurred_at: datetime | None = None,
        expected_hash: str | None = None,
    ) -> Appended:
        """Append `events` to a stream and queue them in the outbox, in the caller's transaction.

        `expected_version` is the version the caller decided on (None: whatever the head is);
        a mismatch, or a concurrent append that wins the race, raises ConcurrencyError.
        `expected_hash` is the hash of the event at `expected_version` when the caller read it in
        this very transaction: the head query is skipped (committed events never change, and a
        writer that appended since is refused by the unique constraint below).
        """
        if not events:
            return Appended([], expected_version or 0, expected_hash or "")
        if expected_version is not None and expected_hash is not None:
            version, prev_hash = expected_version, expected_hash
        elif expected_version == 0:
            # A new stream starts from the genesis hash; if someone created it meanwhile, the
            # unique (aggregate_id, aggregate_version) constraint refuses the insert below.
            version, prev_hash = 0, GENESIS_HASH
        else:
            version, prev_hash = await self.head(conn, aggregate_id)
            if expected_version is not None and version != expected_version:
                raise ConcurrencyError(aggregate_id, expected_version, version)
        payloads = [event.model_dump(mode="json") for event in events]
        written = chained_rows(
            self.producer,
            aggregate_id,
            events,
            version=version,
            prev_hash=prev_hash,
            occurred_at=occurred_at or utcnow(),
            correlation_id=correlation_id,
            causation_id=causation_id,
            payloads=payloads,
            keys=await self.sealing_keys(conn, events, payloads),
        )
        try:
            await conn.execute(
                append_statement(self.tables), append_parameters(written.event_rows, written.outbox_rows)
            )
        except IntegrityError as exc:
            if "events_stream_version_uq" not in str(exc.orig):
                raise
            # The caller's transaction is aborted now (callers retry it whole); the version that
            # won is read on a connection of its own, for the error message.
            async with conn.engine.connect() as other:
                actual, _ = await self.head(other, aggregate_id)
            raise ConcurrencyError(aggregate_id, expected_version, actual) from exc
        for envelope in written.clear:
            await self.projector(conn, envelope)
        return Appended(written.clear, written.version, written.last_hash)
