"""A programme's quota stream: wire contracts <-> domain decisions, and a cached state.

The state of a programme is rebuilt from its stream only when the cached copy is stale: the
cache is keyed by the stream's version and last hash, so another instance's append (or a
rolled-back transaction of ours) is always noticed and never trusted.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import decode
from libs.events.contracts.allocation import ProgrammeDefined, QuotaAssigned, QuotaReleased, QuotaWaitlisted
from libs.events.contracts.base import DomainEvent
from libs.eventstore.store import EventStore
from services.allocation.domain.quota import QuotaState
from services.allocation.domain.quota_events import (
    Assign,
    QuotaEvent,
    QuotasOpened,
    Release,
    ReleaseReason,
    Waitlist,
    WaitlistReason,
)
from services.allocation.domain.sector import QuotaCell, Sector


def stream_of(programme_code: str) -> str:
    """The event stream of a programme (its definition and every quota decision)."""
    return f"programme-{programme_code}"


def to_domain(event: DomainEvent) -> QuotaEvent | None:
    """The quota decision a stored allocation event stands for (None: not a quota decision)."""
    if isinstance(event, ProgrammeDefined):
        return QuotasOpened(
            programme_code=event.programme_code,
            seats=tuple((QuotaCell(c.regency_code, Sector(c.sector)), c.seats) for c in event.quotas),
            budget_cap=event.budget_cap,
            cost_per_worker=(event.premium_jkk + event.premium_jkm) * event.months,
        )
    if isinstance(event, QuotaAssigned):
        return Assign(event.worker_id, event.regency_code, Sector(event.sector), promoted=event.promoted)
    if isinstance(event, QuotaWaitlisted):
        return Waitlist(
            worker_id=event.worker_id,
            regency=event.regency_code,
            sector=Sector(event.sector),
            desil=event.decile,
            nomination_seq=event.nomination_seq,
            decree_round=event.decree_round,
            position=event.position,
            reason=WaitlistReason(event.reason),
        )
    if isinstance(event, QuotaReleased):
        return Release(event.worker_id, ReleaseReason(event.reason))
    return None


@dataclass
class _Cached:
    version: int
    last_hash: str
    state: QuotaState


class QuotaStates:
    """Per-process cache of programme quota states, verified against the stream head."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._cache: dict[str, _Cached] = {}
        self.rebuilds = 0

    async def load(self, conn: AsyncConnection, programme_code: str) -> tuple[QuotaState, int]:
        """The current state of a programme and the stream version it reflects."""
        stream = stream_of(programme_code)
        version, last_hash = await self.store.head(conn, stream)
        cached = self._cache.get(programme_code)
        if cached and cached.version == version and cached.last_hash == last_hash:
            return cached.state, version
        state = QuotaState()
        for envelope in await self.store.load(conn, stream):
            decision = to_domain(decode(envelope))
            if decision is not None:
                state.apply(decision)
        self.rebuilds += 1
        self._cache[programme_code] = _Cached(version, last_hash, state)
        return state, version

    async def remember(
        self, conn: AsyncConnection, programme_code: str, state: QuotaState, decisions: tuple[QuotaEvent, ...]
    ) -> None:
        """Advance the cached state by decisions just appended in `conn`'s transaction."""
        for decision in decisions:
            state.apply(decision)
        version, last_hash = await self.store.head(conn, stream_of(programme_code))
        self._cache[programme_code] = _Cached(version, last_hash, state)
