"""The dashboard's reaction to consumed events: keep the facts, drop the personal data, project.

The inbox consumer writes each consumed envelope's inbox row as the reactor's `inbox_copy` gives
it: the minimised copy, written once, so no NIK, name or KPJ is ever stored by the dashboard
(a parked event's row is replaced by its copy in the transaction that parks it). The read
models are projected from those same minimised facts, which is what an audit replay of the inbox
feeds `project_consumed` too. The
dashboard decides nothing: it appends no event.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from aiokafka.structs import ConsumerRecord

from libs.events import Envelope
from libs.eventstore.ports import StoreTransaction
from libs.messaging.consumer import Consumed
from services.dashboard.domain.consumed import consumed_fact, metadata_only, minimised
from services.dashboard.domain.facts import FACTS
from services.dashboard.domain.read_model import Changes, changes_of

log = logging.getLogger(__name__)


class ReadModels(Protocol):
    """Where a batch's changes go, in the batch's transaction (adapters/projections.py: SQL)."""

    async def write(self, tx: StoreTransaction, changes: Changes, kept: Sequence[Envelope]) -> None:
        """Write the read-model `changes`, and replace the inbox rows this transaction wrote for
        the `kept` envelopes by these copies."""
        ...


class DashboardReactor:
    """Projects every event the dashboard counts with; other event types never reach it."""

    interested = frozenset(FACTS)

    def __init__(self, read_models: ReadModels) -> None:
        self.read_models = read_models

    def inbox_copy(self, item: Consumed) -> Envelope:
        """What the inbox keeps of a consumed event: its minimised copy, or only its metadata
        when its fact is unreadable (then `react` fails the batch, and the event is parked)."""
        try:
            return minimised(item.clear)[1]
        except Exception:
            return metadata_only(item.clear)

    async def react(self, tx: StoreTransaction, items: Sequence[Consumed]) -> None:
        """Project a batch of consumed events, in order (their inbox rows hold `inbox_copy`)."""
        # The facts projected are the ones `project_consumed` reads back from the inbox copies
        # (`inbox_copy` made them from the same facts): no second minimised copy is built here.
        changes = changes_of((consumed_fact(item.clear), item.clear.occurred_at) for item in items)
        await self.read_models.write(tx, changes, ())

    async def parked(
        self,
        tx: StoreTransaction,
        record: ConsumerRecord[bytes, bytes],
        envelope: Envelope | None,
        error: BaseException,
    ) -> None:
        """A parked event is not input, but its inbox row must not keep personal data either.

        (The dead-letter row keeps the original bytes: re-driving it needs them.)
        """
        if envelope is None:
            return
        try:
            _, kept = minimised(envelope)
        except Exception:  # the fact itself is what failed: keep only the envelope's metadata
            kept = metadata_only(envelope)
        await self.read_models.write(tx, Changes(), [kept])
