"""A programme's quota stream: wire contracts <-> domain decisions, and a cached state.

The state of a programme is kept in memory and verified against the stream head (version and
hash) on every load: when another instance appended, only the newer events are read and applied
(after checking that the cached head is still in the stream); when the cached copy is not a prefix
of the stream any more (a rolled-back transaction of ours), it is rebuilt from the start. A cache
is used by one sequential caller only (the consumer, or the HTTP command runner under its lock):
states are advanced in place.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope, decode
from libs.events.contracts import allocation as wire
from libs.events.contracts.base import DomainEvent
from libs.eventstore.store import Appended, EventStore, row_to_envelope
from services.allocation.domain.quota import QuotaState
from services.allocation.domain.quota_events import (
    Assign,
    BudgetChanged,
    Decline,
    DecreeFixed,
    QuotaEvent,
    QuotasOpened,
    Release,
    ReleaseReason,
    SeatsChanged,
    Unseat,
    Waitlist,
    WaitlistReason,
)
from services.allocation.domain.sector import QuotaCell, Sector

DTKS_RANK = 10
"""Desil given to a worker found through DTKS without a P3KE desil: after every P3KE decile."""

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def stream_of(programme_code: str) -> str:
    """The event stream of a programme (its definition and every quota decision)."""
    return f"programme-{programme_code}"


def rank_desil(decile: int | None) -> int:
    """The desil a worker ranks by: their P3KE desil, or DTKS_RANK without one."""
    return DTKS_RANK if decile is None else decile


def nomination_seq(nominated_at: datetime) -> int:
    """Nomination order: whole microseconds since 1970-01-01 UTC (a naive time is read as UTC)."""
    if nominated_at.tzinfo is None:
        nominated_at = nominated_at.replace(tzinfo=UTC)
    return (nominated_at - _EPOCH) // timedelta(microseconds=1)


def nominated_at(seq: int | None) -> datetime:
    """The nomination instant of `nomination_seq` (the epoch when unknown: ranks first)."""
    return _EPOCH + timedelta(microseconds=seq or 0)


def to_domain(event: DomainEvent) -> QuotaEvent | None:
    """The quota decision a stored allocation event stands for (None: not a quota decision)."""
    if isinstance(event, wire.ProgrammeDefined):
        return QuotasOpened(
            programme_code=event.programme_code,
            seats=tuple((QuotaCell(c.regency_code, Sector(c.sector)), c.seats) for c in event.quotas),
            budget_cap=event.budget_cap,
            cost_per_worker=(event.premium_jkk + event.premium_jkm) * event.months,
            requires_decree=event.requires_decree,
            village_cap=event.village_cap,
        )
    if isinstance(event, wire.QuotaAssigned):
        ranked = event.nomination_seq is not None
        return Assign(
            event.worker_id,
            event.regency_code,
            Sector(event.sector),
            promoted=event.promoted,
            desil=rank_desil(event.decile) if ranked else None,
            nomination_seq=event.nomination_seq,
            desa_code=event.desa_code,
        )
    if isinstance(event, wire.QuotaWaitlisted):
        return Waitlist(
            worker_id=event.worker_id,
            regency=event.regency_code,
            sector=Sector(event.sector),
            desil=event.decile,
            nomination_seq=event.nomination_seq,
            decree_round=event.decree_round,
            position=event.position,
            reason=WaitlistReason(event.reason),
            desa_code=event.desa_code,
        )
    if isinstance(event, wire.QuotaReleased):
        return Release(event.worker_id, ReleaseReason(event.reason), event.held_by)
    if isinstance(event, wire.QuotaUnseated):
        return Unseat(
            worker_id=event.worker_id,
            regency=event.regency_code,
            sector=Sector(event.sector),
            desil=event.decile,
            nomination_seq=event.nomination_seq,
            decree_round=event.decree_round,
            position=event.position,
            reason=WaitlistReason(event.reason),
            by_worker_id=event.by_worker_id,
            desa_code=event.desa_code,
        )
    if isinstance(event, wire.QuotaDeclined):
        return Decline(event.worker_id, event.regency_code, Sector(event.sector), event.held_by)
    if isinstance(event, wire.QuotaChanged):
        return SeatsChanged(event.regency_code, Sector(event.sector), event.seats, event.over_assigned)
    if isinstance(event, wire.BudgetChanged):
        return BudgetChanged(event.budget_cap, event.over_committed)
    if isinstance(event, wire.DecreeIssued):
        return DecreeFixed(event.decree_number)
    return None


@dataclass
class _Cached:
    version: int
    last_hash: str
    state: QuotaState
    # The transaction that read or wrote this head: inside it the head needs no re-reading.
    verified_in: object | None = None


@dataclass(frozen=True)
class Loaded:
    """A programme's state as of stream `version` (whose last event has hash `last_hash`)."""

    state: QuotaState
    version: int
    last_hash: str


class QuotaStates:
    """Per-caller cache of programme quota states, verified against the stream head."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._cache: dict[str, _Cached] = {}
        self.rebuilds = 0  # read from the first event
        self.catch_ups = 0  # another writer appended: only its events were read

    async def load(self, conn: AsyncConnection, programme_code: str) -> Loaded:
        """The current state of a programme and the stream head it reflects."""
        stream = stream_of(programme_code)
        cached = self._cache.get(programme_code)
        # The sync transaction object is unique per transaction (the async proxy may not be).
        transaction = conn.sync_connection.get_transaction() if conn.sync_connection else None
        if cached and transaction is not None and cached.verified_in is transaction:
            # Read or written earlier in this transaction: our own appends are the newest we can
            # see, and a writer that committed since is refused by the append's unique constraint.
            return Loaded(cached.state, cached.version, cached.last_hash)
        version, last_hash = await self.store.head(conn, stream)
        if cached and cached.version == version and cached.last_hash == last_hash:
            cached.verified_in = transaction
            return Loaded(cached.state, version, last_hash)
        if (
            cached
            and cached.version < version
            and await self._hash_at(conn, stream, cached.version) == (cached.last_hash)
        ):
            state = cached.state
            self.catch_ups += 1
            after = cached.version
        else:
            state = QuotaState()
            self.rebuilds += 1
            after = 0
        for envelope in await self._events(conn, stream, after, version):
            decision = to_domain(decode(envelope))
            if decision is not None:
                state.apply(decision)
        self._cache[programme_code] = _Cached(version, last_hash, state, transaction)
        return Loaded(state, version, last_hash)

    def remember(
        self, programme_code: str, loaded: Loaded, decisions: Sequence[QuotaEvent], appended: Appended
    ) -> None:
        """Advance the cached state by decisions just appended (as `appended`) after `loaded`."""
        for decision in decisions:
            loaded.state.apply(decision)
        cached = self._cache.get(programme_code)
        verified_in = cached.verified_in if cached is not None and cached.state is loaded.state else None
        self._cache[programme_code] = _Cached(appended.version, appended.last_hash, loaded.state, verified_in)

    def forget(self, programme_code: str) -> None:
        """Drop a cached state (the next load rebuilds it)."""
        self._cache.pop(programme_code, None)

    async def _hash_at(self, conn: AsyncConnection, stream: str, version: int) -> str | None:
        events = self.store.tables.events
        if version == 0:
            return None
        return (
            await conn.execute(
                select(events.c.hash).where(
                    events.c.aggregate_id == stream, events.c.aggregate_version == version
                )
            )
        ).scalar_one_or_none()

    async def _events(self, conn: AsyncConnection, stream: str, after: int, upto: int) -> list[Envelope]:
        # Bounded by the head read above: a later commit is picked up by the next load, not twice.
        events = self.store.tables.events
        rows = await conn.execute(
            select(events)
            .where(
                events.c.aggregate_id == stream,
                events.c.aggregate_version > after,
                events.c.aggregate_version <= upto,
            )
            .order_by(events.c.aggregate_version)
        )
        # Opened: the contracts admit a clear or forgotten identity, never a sealed one.
        return await self.store.opened(conn, [row_to_envelope(r) for r in rows])
