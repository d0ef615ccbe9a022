"""What the pretend insurer remembers, in memory: the InsurerBook port faked for unit tests. The
whole ledger is kept, facts applied to it with the domain's own evolve (Ledger.apply)."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from services.bpjs_simulator.application.ports import DueAnswer, HeldAnswer
from services.bpjs_simulator.domain.insurer import kpj_number
from services.bpjs_simulator.domain.ledger import (
    Answered,
    Continued,
    Fact,
    Issued,
    LatestPayer,
    Ledger,
    NewPayer,
    PayerAdded,
)
from services.bpjs_simulator.domain.requests import Request


@dataclass
class Held:
    id: int
    answer: HeldAnswer
    sent_at: datetime | None = None


@dataclass
class FakeBook:
    everything: Ledger = field(default_factory=Ledger)
    latest: dict[str, LatestPayer] = field(default_factory=dict)  # NIK -> latest payer
    payers: list[NewPayer] = field(default_factory=list)
    answers: dict[tuple[str, str, int], tuple[str, str | None]] = field(default_factory=dict)
    held: list[Held] = field(default_factory=list)
    sequence: int = 0
    receipts: int = 0
    reads: int = 0  # ledgers read: one per batch

    async def ledger_for(self, requests: Sequence[Request]) -> Ledger:
        self.reads += 1
        return copy.deepcopy(self.everything)

    async def kpj_numbers(self, count: int) -> list[str]:
        found: list[str] = []
        while len(found) < count:
            self.sequence += 1
            if kpj_number(self.sequence) not in self.everything.issued:
                found.append(kpj_number(self.sequence))
        return found

    async def payment_numbers(self, count: int) -> list[int]:
        self.receipts += count
        return list(range(self.receipts - count + 1, self.receipts + 1))

    async def record(self, facts: Sequence[Fact]) -> None:
        for fact in facts:
            if isinstance(fact, Answered):
                key = (fact.kind, fact.request_id, fact.attempt)
                assert key not in self.answers, "the log's key"
                self.answers[key] = (fact.decision, fact.reason_code)
            elif isinstance(fact, Issued | Continued):
                self.latest[fact.nik] = fact.latest
            elif isinstance(fact, PayerAdded):
                self.payers.append(fact.payer)
            self.everything.apply(fact)

    def preload(self, nik: str, kpj: str) -> None:
        """A participant BPJS knew before Lindung."""
        self.everything.kpjs[nik] = kpj
        self.everything.issued.add(kpj)

    async def hold(self, answers: Sequence[HeldAnswer]) -> None:
        self.held += [Held(len(self.held) + 1, a) for a in answers]

    async def due(self, now: datetime, limit: int) -> list[DueAnswer]:
        due = sorted(
            (h for h in self.held if h.sent_at is None and h.answer.due_at <= now),
            key=lambda h: (h.answer.due_at, h.id),
        )[:limit]
        return [
            DueAnswer(
                h.id,
                h.answer.stream,
                h.answer.event_type,
                h.answer.payload,
                h.answer.correlation_id,
                h.answer.causation_id,
            )
            for h in due
        ]

    async def mark_sent(self, ids: Sequence[int], now: datetime) -> None:
        for h in self.held:
            if h.id in ids:
                h.sent_at = now
