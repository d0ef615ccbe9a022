"""What allocation's handlers need besides the programme streams, as ports: implemented over
PostgreSQL in adapters/ (read models of this service), faked in unit tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from libs.eventstore.ports import StoreTransaction
from services.allocation.domain.programme_commands import WorkerHolds


class ReadModels(Protocol):
    """Lookups and effects on allocation's read models, in a handler's transaction."""

    async def holds_of(
        self, tx: StoreTransaction, workers: Mapping[str, int | None], except_programme: str
    ) -> dict[str, WorkerHolds]:
        """Each worker's seats and waitlist places in programmes other than `except_programme`
        (worker id -> nomination_seq in the asking programme). Takes each worker's lock for the
        rest of the transaction first, refusing (a ConcurrencyError) when another holds it."""
        ...

    async def forget_person(self, tx: StoreTransaction, worker_id: str) -> None:
        """PersonForgotten: the worker's identity leaves the read models (seats and money stay)."""
        ...


class StreamCache(Protocol):
    """Keeps loaded programme states between transactions (a transaction of it loads a stream's
    new events only)."""

    def over(self, tx: StoreTransaction) -> StoreTransaction:
        """`tx`, loading through the cache where the store allows it."""
        ...


class NoCache:
    """Every load reads the whole stream (the in-memory store of unit tests)."""

    rebuilds = 0
    catch_ups = 0

    def over(self, tx: StoreTransaction) -> StoreTransaction:
        """`tx` itself."""
        return tx
