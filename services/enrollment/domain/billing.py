"""The monthly premium bill: what each funder owes BPJS, per regency, for the covered workers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from libs.wording import rupiah
from services.enrollment.domain.months import YearMonth


@dataclass(frozen=True, slots=True)
class PremiumRates:
    """Monthly premium per worker, in whole rupiah. Configuration, never hard-coded."""

    jkk: int
    jkm: int

    def __post_init__(self) -> None:
        for name, value in (("jkk", self.jkk), ("jkm", self.jkm)):
            # bool is an int in Python; a rate of True would bill silently.
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"{name} rate must be a whole, non-negative rupiah amount")

    @property
    def per_worker(self) -> int:
        """JKK + JKM for one worker for one month."""
        return self.jkk + self.jkm


@dataclass(frozen=True, slots=True)
class CoveredWorker:
    """A worker covered in the billed month, and who pays for them."""

    worker_id: str
    funder: str
    regency: str


@dataclass(frozen=True, slots=True)
class BillLine:
    """What one funder owes for one regency's workers this month."""

    funder: str
    regency: str
    workers: int
    jkk_total: int
    jkm_total: int
    total: int


@dataclass(frozen=True, slots=True)
class MonthlyBill:
    """All lines of a month, sorted by (funder, regency), with grand totals."""

    month: YearMonth
    lines: tuple[BillLine, ...]
    workers: int
    jkk_total: int
    jkm_total: int
    total: int


class ConflictingFunderError(ValueError):
    """The same worker appears under two funders or regencies: only one may pay."""


def monthly_bill(month: YearMonth, covered: Iterable[CoveredWorker], rates: PremiumRates) -> MonthlyBill:
    """The bill for `month`. A worker listed twice identically is billed once (at-least-once
    inputs); listed under two funders or regencies, it raises `ConflictingFunderError`, because
    billing both would pay the same premium twice."""
    payer_of: dict[str, tuple[str, str]] = {}
    for worker in covered:
        payer = (worker.funder, worker.regency)
        known = payer_of.setdefault(worker.worker_id, payer)
        if known != payer:
            raise ConflictingFunderError(
                f"worker {worker.worker_id} billed to both {known} and {payer} for {month}"
            )

    counts: dict[tuple[str, str], int] = {}
    for payer in payer_of.values():
        counts[payer] = counts.get(payer, 0) + 1

    lines = tuple(
        _line(funder, regency, workers, rates) for (funder, regency), workers in sorted(counts.items())
    )
    return MonthlyBill(
        month=month,
        lines=lines,
        workers=sum(line.workers for line in lines),
        jkk_total=sum(line.jkk_total for line in lines),
        jkm_total=sum(line.jkm_total for line in lines),
        total=sum(line.total for line in lines),
    )


def _line(funder: str, regency: str, workers: int, rates: PremiumRates) -> BillLine:
    jkk_total = workers * rates.jkk
    jkm_total = workers * rates.jkm
    return BillLine(funder, regency, workers, jkk_total, jkm_total, jkk_total + jkm_total)


@dataclass(frozen=True, slots=True)
class ProgrammeLimits:
    """What a programme can pay for: its seats (the sum of its quota cells) and its budget cap."""

    seats: int
    budget_cap: int


class BillOverLimitError(ValueError):
    """A month's bill would exceed the programme's seats or budget: nothing is billed."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def check_bill_limits(
    limits: ProgrammeLimits,
    month: YearMonth,
    workers_in_month: int,
    billed_before: int,
    bill_total: int,
) -> None:
    """Refuse (BillOverLimitError) a bill that would make `month` list more workers than the
    programme has seats, or the programme's bills (refused lines apart) exceed its budget cap.

    `workers_in_month` counts every worker billed for the month, this bill included. A seat is
    paid once a month: a worker promoted into the seat of one who left during a month already
    billed for that seat is billed from the next month (the bill that would list both is refused)."""
    if workers_in_month > limits.seats:
        raise BillOverLimitError(
            "BILL_EXCEEDS_SEATS",
            f"Tagihan {month} akan memuat {workers_in_month} peserta, melebihi {limits.seats} kursi "
            "program; tagihan tidak dibuat. Peserta pengganti ditagih mulai bulan berikutnya.",
        )
    if billed_before + bill_total > limits.budget_cap:
        raise BillOverLimitError(
            "BILL_EXCEEDS_BUDGET",
            f"Tagihan {month} ({rupiah(bill_total)}) membuat total tagihan program "
            f"{rupiah(billed_before + bill_total)}, melebihi pagu {rupiah(limits.budget_cap)}; "
            "tagihan tidak dibuat.",
        )
