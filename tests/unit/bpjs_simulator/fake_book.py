"""What the pretend insurer remembers, in memory: the InsurerBook port faked for unit tests."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from services.bpjs_simulator.application.ports import (
    Deregistration,
    DueAnswer,
    HeldAnswer,
    LatestPayer,
    NewPayer,
    Payment,
    Registered,
)
from services.bpjs_simulator.domain.insurer import Payer, kpj_number


@dataclass
class Held:
    id: int
    answer: HeldAnswer
    sent_at: datetime | None = None


@dataclass
class FakeBook:
    kpjs: dict[str, str] = field(default_factory=dict)  # NIK -> KPJ
    latest: dict[str, LatestPayer] = field(default_factory=dict)  # NIK -> latest payer
    payers: list[NewPayer] = field(default_factory=list)
    ended: dict[int, date] = field(default_factory=dict)  # index in payers -> last covered day
    months: dict[tuple[str, str], str] = field(default_factory=dict)  # (KPJ, month) -> payment
    payments: dict[str, Payment] = field(default_factory=dict)
    deregistrations: dict[str, Deregistration] = field(default_factory=dict)
    answers: dict[tuple[str, str, int], tuple[str, str | None]] = field(default_factory=dict)
    held: list[Held] = field(default_factory=list)
    sequence: int = 0
    receipts: int = 0

    async def answered(self, kind: str, request_id: str, attempt: int) -> bool:
        return (kind, request_id, attempt) in self.answers

    async def mark_answered(
        self, kind: str, request_id: str, attempt: int, decision: str, reason_code: str | None
    ) -> None:
        assert (kind, request_id, attempt) not in self.answers, "the log's key"
        self.answers[(kind, request_id, attempt)] = (decision, reason_code)

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

    async def registered(self, request_id: str) -> Registered | None:
        found = [p for p in self.payers if p.request_id == request_id]
        return Registered(found[0].kpj, found[0].registered_at, found[0].continued) if found else None

    async def kpj_of(self, nik: str) -> str | None:
        return self.kpjs.get(nik)

    async def kpj_issued(self, kpj: str) -> bool:
        return kpj in self.kpjs.values()

    async def payers_of(self, kpj: str) -> list[Payer]:
        paid = frozenset(month for (k, month) in self.months if k == kpj)
        return [
            Payer(p.programme_code, p.first_day, p.coverage_end, self.ended.get(i), paid)
            for i, p in enumerate(self.payers)
            if p.kpj == kpj
        ]

    async def continue_participant(self, nik: str, payer: LatestPayer) -> None:
        self.latest[nik] = payer

    async def register_new(self, nik: str, registered_at: datetime, payer: LatestPayer) -> str:
        self.sequence += 1
        self.kpjs[nik] = kpj_number(self.sequence)
        self.latest[nik] = payer
        return self.kpjs[nik]

    async def add_payer(self, payer: NewPayer) -> None:
        self.payers.append(payer)

    async def deregistration(self, request_id: str) -> Deregistration | None:
        return self.deregistrations.get(request_id)

    async def stop_payer(self, kpj: str, programme_code: str, last_day: date, reason: str) -> bool:
        stopped = [
            i for i, p in enumerate(self.payers) if p.kpj == kpj and p.programme_code == programme_code
        ]
        for i in stopped:
            self.ended[i] = min(self.ended.get(i, last_day), last_day)
        return bool(stopped)

    async def record_deregistration(self, decided: Deregistration) -> None:
        self.deregistrations[decided.request_id] = decided

    async def payment(self, payment_request_id: str) -> Payment | None:
        return self.payments.get(payment_request_id)

    async def participants_among(self, kpjs: set[str]) -> set[str]:
        return kpjs & set(self.kpjs.values())

    async def paid_among(self, month: str, kpjs: set[str]) -> set[str]:
        return {k for k in kpjs if (k, month) in self.months}

    async def payer_ends(self, programme_code: str, kpjs: set[str]) -> dict[str, list[date | None]]:
        ends: dict[str, list[date | None]] = {}
        for i, p in enumerate(self.payers):
            if p.programme_code == programme_code and p.kpj in kpjs:
                ends.setdefault(p.kpj, []).append(self.ended.get(i))
        return ends

    async def next_payment_number(self) -> int:
        self.receipts += 1
        return self.receipts

    async def book_months(self, kpjs: set[str], month: str, payment_request_id: str) -> None:
        for kpj in kpjs:
            assert (kpj, month) not in self.months, "a month is paid once"
            self.months[(kpj, month)] = payment_request_id

    async def record_payment(self, decided: Payment) -> Payment:
        self.payments[decided.payment_request_id] = replace(decided)
        return decided
