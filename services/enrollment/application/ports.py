"""What enrollment's handlers need of its read models, inside the transaction they decide in.

Implemented over SQL in adapters/reads.py (the transaction's connection), faked in the unit
tests. Decisions about one stream come from the stream (the deciders); these are the questions
that span many workers (who is billable this month, whose coverage lapsed), the row locks that
make an answer and the clock take turns, and the handler state kept beside the read models
(what BPJS's answers did, per programme).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, Protocol

from libs.events.contracts.bpjs import DeregistrationConfirmed, DeregistrationRejected
from libs.events.envelope import Envelope
from services.enrollment.domain.coverage import CoverageLedger


@dataclass(frozen=True)
class ProgrammeTerms:
    """A programme as enrollment heard of it (ProgrammeDefined, QuotaChanged, BudgetChanged)."""

    programme_code: str
    premium_jkk: int
    premium_jkm: int
    coverage_start: date
    coverage_end: date
    quotas: dict[str, int] | None  # None in rows from before migration 0003
    budget_cap: int | None


@dataclass(frozen=True)
class BillableRegistration:
    """A registration that may be billed for some month: enrolled, or ended with a month owed."""

    worker_id: str
    funder: str
    regency_code: str
    kpj: str | None
    status: str
    coverage_start: date
    coverage_end: date
    enrolled_on: date | None
    last_month_billable: str | None


# The requests to BPJS the clock watches, by their read model: registrations, stop-payments
# (deregistrations) and bill lines; a key is (worker_id, programme_code), or (bill_id,) for bills.
Waiting = Literal["registrations", "deregistrations", "bills"]


class EnrollmentReads(Protocol):
    """The read-model side of one transaction (see the module doc)."""

    async def lock_registrations(self, request_ids: Sequence[str]) -> None:
        """Lock the registrations' rows (in one order) before deciding on BPJS's answers."""
        ...

    async def lock_registration(self, worker_id: str, programme_code: str) -> None: ...

    async def lock_bill(self, bill_id: str) -> None: ...

    async def known_kpjs(self, worker_ids: Sequence[str]) -> dict[str, str]:
        """The KPJ each worker already holds under any programme (the latest enrolled)."""
        ...

    async def first_stop_answer(
        self, answer: DeregistrationConfirmed | DeregistrationRejected
    ) -> tuple[bool, str] | None:
        """Whether BPJS's answer to a stop-payment is its first (True) or a repeat (False), and
        the stop-payment's programme; None when Lindung never sent that stop-payment."""
        ...

    async def project_consumed(self, envelope: Envelope) -> None:
        """The read-model effect of a consumed event (programmes, stop-payment answers, ...)."""
        ...

    async def count(self, outcomes: Iterable[tuple[str, str]]) -> None:
        """Add one to each (programme code, outcome): what BPJS's answers and the clock did."""
        ...

    async def lapsed_workers(self, programme_code: str, month: str, worker_ids: Sequence[str]) -> list[str]:
        """The workers among `worker_ids` whose recorded lapse began with `month`."""
        ...

    async def lock_billing(self, programme_code: str, month: str) -> None:
        """One biller per programme and month at a time."""
        ...

    async def programme(self, programme_code: str) -> ProgrammeTerms | None: ...

    async def billable(self, programme_code: str) -> list[BillableRegistration]: ...

    async def billed_workers(self, programme_code: str, month: str) -> set[str]:
        """Workers on the month's bill lines BPJS has not refused for good."""
        ...

    async def bill_lines(self, programme_code: str, month: str) -> int:
        """How many bill lines the month has (their numbering goes on)."""
        ...

    async def spent(self, programme_code: str) -> int:
        """The total of the programme's bill lines, refused ones apart."""
        ...

    async def try_lock_lapses(self) -> bool:
        """One lapse recorder at a time across instances; False: another holds it."""
        ...

    async def enrolled_ledgers(
        self, today: date, after_end_days: int
    ) -> dict[tuple[str, str], CoverageLedger]:
        """The coverage ledgers of enrolled registrations whose window is open on `today` (or
        ended at most `after_end_days` ago)."""
        ...

    async def due(
        self, kind: Waiting, now: datetime, timeout: timedelta, limit: int
    ) -> list[tuple[Any, ...]]:
        """Keys of waiting requests whose retry is due or whose answer is overdue, oldest first."""
        ...

    async def claim_due(self, kind: Waiting, key: tuple[Any, ...], now: datetime, timeout: timedelta) -> bool:
        """Lock a due request's row (skipping one another instance holds); False: not due any
        more, or taken."""
        ...

    async def next_deadline(self, timeout: timedelta) -> datetime | None:
        """The earliest instant a waiting request needs the clock (None: none waits)."""
        ...
