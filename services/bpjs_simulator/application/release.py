"""Sending held answers when due, and the outage state: the two clocks of the simulator.

Answers are decided when a request is consumed (handlers.py); those due at once are sent in the
consuming transaction, the others held with the instant they are due. `release_due` sends due
answers, oldest due first, by appending them to their answer streams through the stream kit
(domain/answers.py), whose outbox the relay publishes; a delay on one answer never holds up
another.

An outage (`POST /control/outage?seconds=N`) sets when it ends. Until then the simulator
neither consumes (its consumer's partitions are paused: requests wait in Kafka) nor answers
(nothing is released). When it ends, the consumer resumes and every answer that fell due
meanwhile is sent: late, but sent.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from libs.events.catalog import contract_for
from libs.eventstore.kit import Origin, StreamKit, handle
from libs.eventstore.ports import StoreTransaction
from services.bpjs_simulator.application.ports import InsurerBook
from services.bpjs_simulator.domain.answers import SendAnswer, answer_decider

RELEASE_BATCH = 500

ANSWERS = answer_decider()


def real_now() -> datetime:
    """The wall clock (delays and outages run on it, whatever the business calendar says)."""
    return datetime.now(UTC)


@dataclass
class OutageState:
    """This process's view of the control row (refreshed from the database)."""

    until: datetime | None = None
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when held messages may be due now (a batch committed, a claim pushed, an outage ended).
    release: asyncio.Event = field(default_factory=asyncio.Event)

    def active(self, now: datetime | None = None) -> bool:
        """Whether an outage is in force."""
        return self.until is not None and (now or real_now()) < self.until


def origin_of(command: SendAnswer) -> Origin:
    """The business flow an answer belongs to: its request's, caused by the request."""
    return Origin(command.correlation_id, command.causation_id)


async def release_due(
    kit: StreamKit,
    book_of: Callable[[StoreTransaction], InsurerBook],
    *,
    clock: Callable[[], datetime] = real_now,
    limit: int = RELEASE_BATCH,
) -> int:
    """Send the held answers due by now (at most `limit`), in one transaction; return how many."""

    async def work(tx: StoreTransaction) -> int:
        now = clock()
        book = book_of(tx)
        due = await book.due(now, limit)
        commands = [
            SendAnswer(
                d.stream,
                contract_for(d.event_type).model_validate(d.payload),
                d.correlation_id,
                d.causation_id,
            )
            for d in due
        ]
        if commands:
            await handle(tx, ANSWERS, commands, origin=origin_of)
            await book.mark_sent([d.id for d in due], now)
        return len(due)

    return await kit.transact(work)
