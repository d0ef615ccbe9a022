"""Billing a programme's month: one bill line per funder, regency and at most
`bill_max_workers` workers, each a stream whose payment BPJS is asked for at once
(domain/premium_payment.py).

Each worker is billed at most once per programme and month: billing a month again bills only
the workers enrolled since, or those whose earlier line BPJS refused for good. A worker whose
coverage ended (CoverageEnded) is billed up to their `last_month_billable`, never after; a month
whose bill would list more workers than the programme has seats, or take its bills past the
budget cap, is refused whole (domain/billing.py `check_bill_limits`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from libs.events.contracts.bpjs import PremiumPaymentRequested
from libs.events.contracts.enrollment import PremiumBilled
from libs.eventstore.kit import Origin, handle
from libs.eventstore.ports import StoreTransaction
from services.enrollment.application.context import EnrollmentApp
from services.enrollment.application.ports import BillableRegistration, EnrollmentReads, ProgrammeTerms
from services.enrollment.domain.billing import (
    CoveredWorker,
    PremiumRates,
    ProgrammeLimits,
    check_bill_limits,
    monthly_bill,
)
from services.enrollment.domain.months import YearMonth
from services.enrollment.domain.premium_payment import OpenBill


class ProgrammeUnknown(LookupError):
    """Enrollment knows neither the programme's definition nor any registration under it."""


class MonthOutsideProgramme(ValueError):
    """The month billed is outside the programme's coverage period."""


def billable_in(month: YearMonth, status: str, last_month_billable: str | None) -> bool:
    """Whether a registration in `status` may be billed for `month` (its window apart)."""
    if status == "enrolled":
        return True
    return last_month_billable is not None and month <= YearMonth.parse(last_month_billable)


def _due(r: BillableRegistration, month: YearMonth, taken: set[str], regency: str | None) -> bool:
    start = max(r.coverage_start, r.enrolled_on) if r.enrolled_on else r.coverage_start
    return (
        YearMonth.of(start) <= month <= YearMonth.of(r.coverage_end)
        and r.worker_id not in taken
        and bool(r.kpj)
        and billable_in(month, r.status, r.last_month_billable)
        and (regency is None or r.regency_code == regency)
    )


@dataclass(frozen=True)
class _Billed:
    worker_id: str
    funder: str
    regency: str
    kpj: str


async def _check_limits(
    reads: EnrollmentReads, programme: ProgrammeTerms, month: YearMonth, workers_in_month: int, total: int
) -> None:
    """`check_bill_limits` for a bill that makes the month list `workers_in_month` workers (rows
    from before migration 0003, without seats or cap, are not checked)."""
    if programme.quotas is None or programme.budget_cap is None:
        return
    limits = ProgrammeLimits(seats=sum(programme.quotas.values()), budget_cap=programme.budget_cap)
    check_bill_limits(limits, month, workers_in_month, await reads.spent(programme.programme_code), total)


def _line_events(
    bill_id: str,
    month: YearMonth,
    programme_code: str,
    chunk: list[_Billed],
    rates: PremiumRates,
    today: date,
) -> tuple[PremiumBilled, PremiumPaymentRequested]:
    n, first = len(chunk), chunk[0]
    billed = PremiumBilled(
        bill_id=bill_id,
        programme_code=programme_code,
        month=str(month),
        funder=first.funder,
        regency_code=first.regency,
        workers=n,
        jkk_per_worker=rates.jkk,
        jkm_per_worker=rates.jkm,
        jkk_total=n * rates.jkk,
        jkm_total=n * rates.jkm,
        total=n * rates.per_worker,
        worker_ids=[w.worker_id for w in chunk],
        billed_on=today,
    )
    request = PremiumPaymentRequested(
        payment_request_id=bill_id,
        attempt=1,
        programme_code=programme_code,
        month=str(month),
        funder=first.funder,
        regency_code=first.regency,
        kpjs=[w.kpj for w in chunk],
        participants=n,
        jkk_per_participant=rates.jkk,
        jkm_per_participant=rates.jkm,
        jkk_total=billed.jkk_total,
        jkm_total=billed.jkm_total,
        total=billed.total,
    )
    return billed, request


async def bill_month(
    app: EnrollmentApp,
    tx: StoreTransaction,
    programme_code: str,
    month: YearMonth,
    regency: str | None = None,
) -> list[str]:
    """Bill `month` for the programme's enrolled workers not billed yet (of `regency` only, when
    given: a funder may pay one regency and not another); return the new bill ids.

    Workers are billed whose coverage window (from the later of the programme's start and their
    enrollment day, to the programme's end) includes the month. Rates come from the programme's
    definition (ProgrammeDefined), else from configuration."""
    reads = app.reads_of(tx)
    # One biller per programme and month at a time: two concurrent calls must not bill a worker twice.
    await reads.lock_billing(programme_code, str(month))
    programme = await reads.programme(programme_code)
    enrolled = await reads.billable(programme_code)
    if programme is None and not enrolled:
        raise ProgrammeUnknown(programme_code)
    rates = app.config.default_rates
    if programme is not None:
        rates = PremiumRates(jkk=programme.premium_jkk, jkm=programme.premium_jkm)
        if not YearMonth.of(programme.coverage_start) <= month <= YearMonth.of(programme.coverage_end):
            raise MonthOutsideProgramme(
                f"{month} is outside {programme.coverage_start}..{programme.coverage_end}"
            )
    taken = await reads.billed_workers(programme_code, str(month))
    due = {
        r.worker_id: _Billed(r.worker_id, r.funder, r.regency_code, r.kpj or "")
        for r in enrolled
        if _due(r, month, taken, regency)
    }
    if programme is not None and due:
        await _check_limits(reads, programme, month, len(taken | set(due)), len(due) * rates.per_worker)
    bill = monthly_bill(month, (CoveredWorker(w.worker_id, w.funder, w.regency) for w in due.values()), rates)
    sequence = await reads.bill_lines(programme_code, str(month))
    origin, today = Origin.new(), app.today()
    commands: list[OpenBill] = []
    for line in bill.lines:
        members = sorted(
            (w for w in due.values() if (w.funder, w.regency) == (line.funder, line.regency)),
            key=lambda w: w.worker_id,
        )
        for start in range(0, len(members), app.config.bill_max_workers):
            sequence += 1
            bill_id = f"{programme_code}/{month}/{line.regency}/{sequence}"
            chunk = members[start : start + app.config.bill_max_workers]
            billed, request = _line_events(bill_id, month, programme_code, chunk, rates, today)
            commands.append(OpenBill(billed, request, origin))
    decisions = await handle(tx, app.bill, commands, origin=origin, occurred_at=app.real_now())
    return [c.billed.bill_id for c, d in zip(commands, decisions, strict=True) if d.recorded]
