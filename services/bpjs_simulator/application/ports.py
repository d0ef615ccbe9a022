"""What the simulator's handlers need of what the pretend insurer remembers, as a port: the
ledger a batch of requests is decided on (read once per batch), the numbers it issues, the facts
its decisions record (written once per table per batch) and the answers held until due. The SQL
lives in adapters/book.py; unit tests fake it (tests/unit/bpjs_simulator)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from services.bpjs_simulator.domain.ledger import Fact, Ledger
from services.bpjs_simulator.domain.requests import Request


@dataclass(frozen=True)
class HeldAnswer:
    """An answer decided, to send on `stream` at `due_at`; `copy` > 1 is a deliberate repeat."""

    stream: str
    event_type: str
    payload: dict[str, Any]
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None
    due_at: datetime
    copy: int = 1
    late: bool = False


@dataclass(frozen=True)
class DueAnswer:
    """A held answer that fell due (`id`: its place in the queue)."""

    id: int
    stream: str
    event_type: str
    payload: dict[str, Any]
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None


class InsurerBook(Protocol):
    """What the pretend insurer remembers, within one transaction."""

    async def ledger_for(self, requests: Sequence[Request]) -> Ledger:
        """What the insurer knows of the people, KPJs and requests `requests` name (one read per
        kind of fact); the people named are locked until the transaction ends (two payers for one
        person are decided one after the other)."""
        ...

    async def kpj_numbers(self, count: int) -> list[str]:
        """`count` new KPJs, in order, passing over any a preloaded participant holds."""
        ...

    async def payment_numbers(self, count: int) -> list[int]:
        """`count` new numbers for payment receipts (unique), in order."""
        ...

    async def record(self, facts: Sequence[Fact]) -> None:
        """Remember what a batch decided (a second delivery of an attempt racing it fails)."""
        ...

    async def hold(self, answers: Sequence[HeldAnswer]) -> None:
        """Keep answers until they fall due."""
        ...

    async def due(self, now: datetime, limit: int) -> list[DueAnswer]:
        """Held answers due by `now`, earliest first, locked (other instances skip them)."""
        ...

    async def mark_sent(self, ids: Sequence[int], now: datetime) -> None:
        """Held answers sent."""
        ...
