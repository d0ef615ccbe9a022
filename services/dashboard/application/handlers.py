"""The dashboard's reaction to consumed events: keep the facts, drop the personal data, project.

The inbox consumer has already written the consumed envelope to the inbox in this transaction;
the handler replaces it with the minimised envelope before the transaction commits, so no NIK,
name or KPJ is ever stored by the dashboard. The read models are projected from that same
minimised envelope, which is what an audit replay of the inbox feeds `project_consumed` too.
"""

from __future__ import annotations

import logging
from typing import Any

from aiokafka.structs import ConsumerRecord
from sqlalchemy import CTE, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope
from libs.events.contracts.base import DomainEvent
from libs.eventstore.store import EventStore
from libs.messaging.consumer import HandlerContext
from services.dashboard.adapters.projections import minimised, project_fact
from services.dashboard.adapters.tables import eventstore
from services.dashboard.domain.facts import FACTS

log = logging.getLogger(__name__)


_INBOX = eventstore.inbox
# Replaces the consumed envelope the inbox consumer wrote in this transaction by its minimised copy.
_KEEP = (
    update(_INBOX)
    .where(_INBOX.c.event_id == bindparam("kept_id"))
    .values(envelope=bindparam("kept_envelope"))
    .returning(_INBOX.c.event_id)
    .cte("kept")
)


def _keep(envelope: Envelope) -> tuple[CTE, dict[str, Any]]:
    return _KEEP, {"kept_id": envelope.event_id, "kept_envelope": envelope.model_dump(mode="json")}


class DashboardHandler:
    """Projects every event the dashboard counts with; other event types never reach it."""

    interested = frozenset(FACTS)

    async def __call__(self, ctx: HandlerContext, event: DomainEvent) -> None:
        fact, minimal = minimised(ctx.envelope)
        # The fact projected is the one `project_consumed` reads back from the kept envelope; the
        # inbox row is rewritten by the same statement as the first read-model write.
        await project_fact(ctx.conn, fact, minimal, along=_keep(minimal))

    async def parked(
        self,
        conn: AsyncConnection,
        store: EventStore,
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
            _, minimal = minimised(envelope)
        except Exception:  # the fact itself is what failed: keep only the envelope's metadata
            minimal = envelope.model_copy(update={"payload": {}})
        cte, params = _keep(minimal)
        await conn.execute(select(cte), params)
