"""What the pretend insurer knows, as far as one batch of requests needs it: the ledger a batch is
decided on, and the facts a decision records in it.

The simulator's handler reads the ledger once per batch (one query per table, adapters/book.py),
decides every request of the batch in order on it (domain/requests.py), each decision's facts
applied to it at once (`Ledger.apply`, the decider's evolve) so a later request sees an earlier
one; the facts are then written to the read tables in one statement per table.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime

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
class PayerRow:
    """A payer as the ledger holds it: the registration and the last covered day a
    deregistration named (None: none came)."""

    payer: NewPayer
    ended_on: date | None = None
    end_reason: str | None = None


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


# --- the facts a decision records -----------------------------------------------------------


@dataclass(frozen=True)
class Issued:
    """A person BPJS did not know got a KPJ (a new participant), paid for by `latest`."""

    nik: str
    kpj: str
    registered_at: datetime
    latest: LatestPayer


@dataclass(frozen=True)
class Continued:
    """A participant BPJS knew has a new payer."""

    nik: str
    latest: LatestPayer


@dataclass(frozen=True)
class PayerAdded:
    """An accepted registration's payer."""

    payer: NewPayer


@dataclass(frozen=True)
class PayerStopped:
    """A programme's payments for a KPJ end after `last_day` (the earliest day named stands)."""

    kpj: str
    programme_code: str
    last_day: date
    reason: str


@dataclass(frozen=True)
class DeregistrationDecided:
    """The final decision on a deregistration request."""

    decided: Deregistration


@dataclass(frozen=True)
class PaymentDecided:
    """The final decision on a payment request; a confirmed one pays its month for every KPJ."""

    decided: Payment
    booked: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answered:
    """An attempt of a request was answered (a second delivery of it is answered no more)."""

    kind: str  # registration | deregistration | payment
    request_id: str
    attempt: int
    decision: str  # accepted | rejected | confirmed
    reason_code: str | None


Fact = Issued | Continued | PayerAdded | PayerStopped | DeregistrationDecided | PaymentDecided | Answered


@dataclass
class Ledger:
    """What the insurer knows of the people, KPJs and requests of one batch.

    `issued` holds every KPJ looked up or issued that BPJS issued (to anyone); `kpjs` maps the
    NIKs looked up to their KPJ; `payers` holds every payer of the KPJs looked up. `fresh_kpjs`
    and `receipts` are the numbers drawn for this batch's new participants and payments, used
    in order; a trial decision on a copy with none drawn counts how many the batch takes."""

    kpjs: dict[str, str] = field(default_factory=dict)  # NIK -> KPJ
    issued: set[str] = field(default_factory=set)
    payers: dict[str, list[PayerRow]] = field(default_factory=dict)  # KPJ -> its payers
    paid: dict[str, set[str]] = field(default_factory=dict)  # KPJ -> months paid
    registered: dict[str, Registered] = field(default_factory=dict)  # request id -> accepted
    deregistrations: dict[str, Deregistration] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    answered: set[tuple[str, str, int]] = field(default_factory=set)
    fresh_kpjs: list[str] = field(default_factory=list)
    receipts: list[int] = field(default_factory=list)
    # Numbers asked for beyond those drawn: a trial decision counts what the batch needs.
    wanted_kpjs: int = 0
    wanted_receipts: int = 0

    def take_kpj(self) -> str:
        """The next KPJ drawn for a new participant (a placeholder once none is left)."""
        if self.fresh_kpjs:
            return self.fresh_kpjs.pop(0)
        self.wanted_kpjs += 1
        return f"?{self.wanted_kpjs}"

    def take_receipt(self) -> int:
        """The next payment receipt number drawn (a placeholder once none is left)."""
        if self.receipts:
            return self.receipts.pop(0)
        self.wanted_receipts += 1
        return -self.wanted_receipts

    def payers_of(self, kpj: str) -> list[Payer]:
        """Every programme that paid or pays for the participant holding `kpj`, with the months
        paid for them (by anyone)."""
        months = frozenset(self.paid.get(kpj, ()))
        return [
            Payer(r.payer.programme_code, r.payer.first_day, r.payer.coverage_end, r.ended_on, months)
            for r in self.payers.get(kpj, [])
        ]

    def rows_of(self, kpj: str, programme_code: str) -> Iterator[tuple[int, PayerRow]]:
        """The payers of `kpj` under `programme_code`, with their places."""
        for place, row in enumerate(self.payers.get(kpj, [])):
            if row.payer.programme_code == programme_code:
                yield place, row

    def apply(self, fact: Fact) -> Ledger:
        """The ledger with `fact` recorded (the insurer's evolve; in place: a batch's ledger is
        its own, and copying it per request would cost a batch its speed)."""
        if isinstance(fact, Issued):
            self.kpjs[fact.nik] = fact.kpj
            self.issued.add(fact.kpj)
        elif isinstance(fact, PayerAdded):
            payer = fact.payer
            self.payers.setdefault(payer.kpj, []).append(PayerRow(payer))
            self.registered[payer.request_id] = Registered(payer.kpj, payer.registered_at, payer.continued)
        elif isinstance(fact, PayerStopped):
            for place, row in list(self.rows_of(fact.kpj, fact.programme_code)):
                ended = fact.last_day if row.ended_on is None else min(row.ended_on, fact.last_day)
                self.payers[fact.kpj][place] = replace(
                    row, ended_on=ended, end_reason=row.end_reason or fact.reason
                )
        elif isinstance(fact, DeregistrationDecided):
            self.deregistrations[fact.decided.request_id] = fact.decided
        elif isinstance(fact, PaymentDecided):
            self.payments[fact.decided.payment_request_id] = fact.decided
            for kpj in fact.booked:
                self.paid.setdefault(kpj, set()).add(fact.decided.month)
        elif isinstance(fact, Answered):
            self.answered.add((fact.kind, fact.request_id, fact.attempt))
        return self  # Continued changes who pays now, which no decision reads
