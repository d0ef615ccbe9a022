"""What the simulator's handlers need of what the pretend insurer remembers, as a port: its
participants, payers, payments, deregistrations, answered attempts and held answers. The SQL
lives in adapters/book.py; unit tests fake it (tests/unit/bpjs_simulator)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from services.bpjs_simulator.domain.insurer import Payer


@dataclass(frozen=True)
class Registered:
    """A registration BPJS accepted: the KPJ, the instant and whether it continued a participant."""

    kpj: str
    registered_at: datetime
    continued: bool


@dataclass(frozen=True)
class LatestPayer:
    """Who pays for a participant now (the latest registration accepted)."""

    worker_id: str
    programme_code: str
    coverage_end: date


@dataclass(frozen=True)
class NewPayer:
    """A programme paying for a participant from `first_day` (one accepted registration)."""

    request_id: str
    nik: str
    kpj: str
    worker_id: str
    programme_code: str
    first_day: date
    coverage_end: date
    registered_at: datetime
    continued: bool


@dataclass(frozen=True)
class Deregistration:
    """BPJS's final decision on a deregistration: a re-sent request gets the same answer."""

    request_id: str
    kpj: str
    worker_id: str
    programme_code: str
    effective_on: date
    reason: str
    outcome: str  # confirmed | rejected
    reason_code: str | None = None
    refusal: str | None = None


@dataclass(frozen=True)
class Payment:
    """BPJS's final decision on a payment request: a re-sent request gets the same answer."""

    payment_request_id: str
    outcome: str  # confirmed | rejected
    kpjs: list[str]
    month: str
    participants: int
    total: int
    payment_ref: str | None = None
    reason_code: str | None = None
    reason: str | None = None
    paid_at: datetime | None = None


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

    async def answered(self, kind: str, request_id: str, attempt: int) -> bool:
        """Whether this attempt of a request was answered already."""
        ...

    async def mark_answered(
        self, kind: str, request_id: str, attempt: int, decision: str, reason_code: str | None
    ) -> None:
        """Remember that this attempt was answered (a second delivery racing it fails)."""
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

    async def registered(self, request_id: str) -> Registered | None:
        """The registration accepted for this request, if one was."""
        ...

    async def kpj_of(self, nik: str) -> str | None:
        """The KPJ BPJS holds for a NIK; the person is locked until the transaction ends (two
        payers for one person are decided one after the other)."""
        ...

    async def kpj_issued(self, kpj: str) -> bool:
        """Whether BPJS issued this KPJ (to anyone)."""
        ...

    async def payers_of(self, kpj: str) -> list[Payer]:
        """Every programme that paid or pays for the participant holding `kpj`, with the months
        paid for them (by anyone)."""
        ...

    async def continue_participant(self, nik: str, payer: LatestPayer) -> None:
        """A participant BPJS knows has a new payer."""
        ...

    async def register_new(self, nik: str, registered_at: datetime, payer: LatestPayer) -> str:
        """Issue the next KPJ to a person BPJS did not know; return it."""
        ...

    async def add_payer(self, payer: NewPayer) -> None:
        """Remember an accepted registration's payer."""
        ...

    async def deregistration(self, request_id: str) -> Deregistration | None:
        """The decision on this deregistration request, if one was made."""
        ...

    async def stop_payer(self, kpj: str, programme_code: str, last_day: date, reason: str) -> bool:
        """End the programme's payments for the KPJ after `last_day` (the earliest day any
        deregistration named stands); False when the programme pays nothing for it."""
        ...

    async def record_deregistration(self, decided: Deregistration) -> None:
        """Remember the decision on a deregistration."""
        ...

    async def payment(self, payment_request_id: str) -> Payment | None:
        """The decision on this payment request, if one was made."""
        ...

    async def participants_among(self, kpjs: set[str]) -> set[str]:
        """Which of `kpjs` are participants."""
        ...

    async def paid_among(self, month: str, kpjs: set[str]) -> set[str]:
        """Which of `kpjs` have `month` paid already."""
        ...

    async def payer_ends(self, programme_code: str, kpjs: set[str]) -> dict[str, list[date | None]]:
        """Per KPJ of `kpjs`, the last covered day of each registration the programme paid under
        (None: not deregistered)."""
        ...

    async def next_payment_number(self) -> int:
        """A new number for a payment receipt (unique)."""
        ...

    async def book_months(self, kpjs: set[str], month: str, payment_request_id: str) -> None:
        """Mark `month` paid for every KPJ of a confirmed payment."""
        ...

    async def record_payment(self, decided: Payment) -> Payment:
        """Remember the decision on a payment request; return it as remembered."""
        ...
