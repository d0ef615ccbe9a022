"""Monthly premiums: bill a programme's month, pay BPJS, record what BPJS confirms.

A bill line (one month, one funder, one regency, at most `bill_max_workers` workers) is one
stream, `bill-{bill_id}`: PremiumBilled (who and how much, from the domain's `monthly_bill`),
PremiumPaymentRequested (attempt 1, 2, ...), PremiumPaymentRetryScheduled, then PremiumPaid or
PremiumPaymentFailed. A payment request and its answers follow the same at-least-once rules as a
registration (domain/registration.py), with the payment reference in the place of the KPJ: a
confirmation counts whichever attempt it answers, even after the line was given up; a refusal
counts only for the attempt in flight; the same answer twice changes nothing.

Each worker is billed at most once per programme and month: billing a month again bills only
the workers enrolled since, or those whose earlier line BPJS refused for good. A worker whose
coverage ended (CoverageEnded) is billed up to their `last_month_billable`, never after; a month
whose bill would list more workers than the programme has seats, or take its bills past
the budget cap, is refused whole (domain/billing.py `check_bill_limits`).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope, decode
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import (
    PremiumPaymentConfirmed,
    PremiumPaymentRejected,
    PremiumPaymentRequested,
)
from libs.events.contracts.enrollment import (
    CoverageRestored,
    PremiumBilled,
    PremiumPaid,
    PremiumPaymentFailed,
    PremiumPaymentRetryScheduled,
)
from libs.eventstore.store import EventStore
from services.enrollment.adapters.tables import bill_workers, bills, coverage_facts, programmes, registrations
from services.enrollment.application.config import EnrollmentConfig
from services.enrollment.application.registrations import registration_stream, timeout_result
from services.enrollment.domain import registration as domain
from services.enrollment.domain.billing import (
    CoveredWorker,
    PremiumRates,
    ProgrammeLimits,
    check_bill_limits,
    monthly_bill,
)
from services.enrollment.domain.months import YearMonth
from services.enrollment.domain.registration import Registration, RegistrationStatus, ResultOutcome

log = logging.getLogger(__name__)


class ProgrammeUnknown(LookupError):
    """Enrollment knows neither the programme's definition nor any registration under it."""


class MonthOutsideProgramme(ValueError):
    """The month billed is outside the programme's coverage period."""


# Registrations still billable for some month: enrolled, or ended with a last month owed.
BILLABLE_STATUSES = ("enrolled", "ended", "membership_ended")


def billable_in(month: YearMonth, status: str, last_month_billable: str | None) -> bool:
    """Whether a registration in `status` may be billed for `month` (its window apart)."""
    if status == "enrolled":
        return True
    return last_month_billable is not None and month <= YearMonth.parse(last_month_billable)


def bill_stream(bill_id: str) -> str:
    return f"bill-{bill_id}"


@dataclass(frozen=True)
class BillHistory:
    """A bill stream folded, with the payment request's lifecycle as a domain Registration."""

    billed: PremiumBilled
    request: PremiumPaymentRequested
    state: Registration
    version: int
    sent_at: datetime
    correlation_id: uuid.UUID
    last_request_id: uuid.UUID


def fold(history: Sequence[Envelope]) -> BillHistory | None:
    billed: PremiumBilled | None = None
    request: PremiumPaymentRequested | None = None
    state: Registration | None = None
    last: Envelope | None = None
    for envelope in history:
        event = decode(envelope)
        if isinstance(event, PremiumBilled):
            billed = event
        elif isinstance(event, PremiumPaymentRequested):
            if request is None or state is None:
                request = event
                state = domain.request_registration(event.payment_request_id, event.programme_code)
            state = replace(state, attempt=event.attempt, retry_at=None)
            last = envelope
        elif state is None:
            continue
        elif isinstance(event, PremiumPaymentRetryScheduled):
            state = replace(state, retry_at=event.retry_at)
        elif isinstance(event, PremiumPaid):
            state = replace(state, status=RegistrationStatus.ENROLLED, kpj=event.payment_ref, retry_at=None)
        elif isinstance(event, PremiumPaymentFailed):
            state = replace(
                state, status=RegistrationStatus.FAILED, failure_reason=event.reason, retry_at=None
            )
    if billed is None or request is None or state is None or last is None:
        return None
    return BillHistory(
        billed, request, state, len(history), last.occurred_at, history[0].correlation_id, last.event_id
    )


# --- billing -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Enrolled:
    worker_id: str
    funder: str
    regency: str
    kpj: str


def _window_months(
    coverage_start: date, coverage_end: date, enrolled_on: date | None
) -> tuple[YearMonth, YearMonth]:
    start = max(coverage_start, enrolled_on) if enrolled_on else coverage_start
    return YearMonth.of(start), YearMonth.of(coverage_end)


async def programme_rates(
    conn: AsyncConnection, programme_code: str, config: EnrollmentConfig
) -> tuple[Any, PremiumRates]:
    row = (
        await conn.execute(select(programmes).where(programmes.c.programme_code == programme_code))
    ).first()
    if row is None:
        return None, config.default_rates
    return row, PremiumRates(jkk=row.premium_jkk, jkm=row.premium_jkm)


async def bill_month(
    conn: AsyncConnection,
    store: EventStore,
    config: EnrollmentConfig,
    programme_code: str,
    month: YearMonth,
    today: date,
    regency: str | None = None,
) -> list[str]:
    """Bill `month` for the programme's enrolled workers not billed yet (of `regency` only, when
    given: a funder may pay one regency and not another); return the new bill ids.

    Workers are billed whose coverage window (from the later of the programme's start and their
    enrollment day, to the programme's end) includes the month. Rates come from the programme's
    definition (ProgrammeDefined), else from configuration."""
    # One biller per programme and month at a time: two concurrent calls must not bill a worker twice.
    await conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
        {"k": f"enrollment-bill:{programme_code}:{month}"},
    )
    programme, rates = await programme_rates(conn, programme_code, config)
    enrolled = (
        await conn.execute(
            select(registrations).where(
                registrations.c.programme_code == programme_code,
                registrations.c.status.in_(BILLABLE_STATUSES),
            )
        )
    ).all()
    if programme is None and not enrolled:
        raise ProgrammeUnknown(programme_code)
    if programme is not None and not (
        YearMonth.of(programme.coverage_start) <= month <= YearMonth.of(programme.coverage_end)
    ):
        raise MonthOutsideProgramme(
            f"{month} is outside {programme.coverage_start}..{programme.coverage_end}"
        )
    taken = set(
        (
            await conn.execute(
                select(bill_workers.c.worker_id)
                .join(bills, bills.c.bill_id == bill_workers.c.bill_id)
                .where(
                    bill_workers.c.programme_code == programme_code,
                    bill_workers.c.month == str(month),
                    bills.c.status != "failed",
                )
            )
        ).scalars()
    )
    due: dict[str, _Enrolled] = {}
    for r in enrolled:
        first, last = _window_months(r.coverage_start, r.coverage_end, r.enrolled_on)
        if (
            first <= month <= last
            and r.worker_id not in taken
            and r.kpj
            and billable_in(month, r.status, r.last_month_billable)
            and (regency is None or r.regency_code == regency)
        ):
            due[r.worker_id] = _Enrolled(r.worker_id, r.funder, r.regency_code, r.kpj)
    if programme is not None and due:
        await _check_limits(conn, programme, month, len(taken | set(due)), len(due) * rates.per_worker)
    bill = monthly_bill(month, (CoveredWorker(w.worker_id, w.funder, w.regency) for w in due.values()), rates)
    sequence = len(
        (
            await conn.execute(
                select(bills.c.bill_id).where(
                    bills.c.programme_code == programme_code, bills.c.month == str(month)
                )
            )
        ).all()
    )
    correlation = uuid.uuid4()
    created: list[str] = []
    for line in bill.lines:
        members = sorted(
            (w for w in due.values() if (w.funder, w.regency) == (line.funder, line.regency)),
            key=lambda w: w.worker_id,
        )
        for start in range(0, len(members), config.bill_max_workers):
            chunk = members[start : start + config.bill_max_workers]
            sequence += 1
            bill_id = f"{programme_code}/{month}/{line.regency}/{sequence}"
            n = len(chunk)
            billed = PremiumBilled(
                bill_id=bill_id,
                programme_code=programme_code,
                month=str(month),
                funder=line.funder,
                regency_code=line.regency,
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
                funder=line.funder,
                regency_code=line.regency,
                kpjs=[w.kpj for w in chunk],
                participants=n,
                jkk_per_participant=rates.jkk,
                jkm_per_participant=rates.jkm,
                jkk_total=billed.jkk_total,
                jkm_total=billed.jkm_total,
                total=billed.total,
            )
            await store.append(
                conn, bill_stream(bill_id), [billed, request], expected_version=0, correlation_id=correlation
            )
            created.append(bill_id)
    return created


async def _check_limits(
    conn: AsyncConnection, programme: Any, month: YearMonth, workers_in_month: int, bill_total: int
) -> None:
    """`check_bill_limits` for a bill that makes the month list `workers_in_month` workers (rows
    from before migration 0003, without seats or cap, are not checked)."""
    if programme.quotas is None or programme.budget_cap is None:
        return
    spent = (
        await conn.execute(
            select(func.coalesce(func.sum(bills.c.total), 0)).where(
                bills.c.programme_code == programme.programme_code, bills.c.status != "failed"
            )
        )
    ).scalar_one()
    limits = ProgrammeLimits(seats=sum(programme.quotas.values()), budget_cap=programme.budget_cap)
    check_bill_limits(limits, month, workers_in_month, int(spent), bill_total)


# --- BPJS answers and the clock ------------------------------------------------------------------


async def apply_answer(
    conn: AsyncConnection,
    store: EventStore,
    config: EnrollmentConfig,
    answer: PremiumPaymentConfirmed | PremiumPaymentRejected,
    cause: Envelope,
    *,
    received_at: datetime,
    jitter: float,
) -> ResultOutcome:
    """Record what a BPJS answer to a payment request changes; return the rule applied."""
    stream = bill_stream(answer.payment_request_id)
    # Lock the read-model row first, as the clock does (see registrations.apply_answers).
    await conn.execute(
        select(bills.c.status).where(bills.c.bill_id == answer.payment_request_id).with_for_update()
    )
    h = fold(await store.load(conn, stream))
    if h is None:
        raise LookupError(f"BPJS answered payment {answer.payment_request_id} that Lindung never requested")
    result: domain.BpjsResult
    if isinstance(answer, PremiumPaymentConfirmed):
        if (answer.participants, answer.total) != (h.billed.workers, h.billed.total):
            raise ValueError(
                f"BPJS confirmed {answer.participants} participants / Rp{answer.total} for "
                f"{answer.payment_request_id}, billed {h.billed.workers} / Rp{h.billed.total}"
            )
        result = domain.RegistrationAccepted(attempt=answer.attempt, kpj=answer.payment_ref)
    else:
        result = domain.RegistrationRejected(
            attempt=answer.attempt,
            reason_code=answer.reason_code,
            reason=answer.reason,
            retryable=answer.retryable,
        )
    change = domain.apply_result(h.state, result, config.retry, received_at, jitter)
    if change.outcome is ResultOutcome.KPJ_CONFLICT:
        log.warning("payment %s confirmed twice under different receipts", answer.payment_request_id)
    paid_on = config.local_date(answer.paid_at) if isinstance(answer, PremiumPaymentConfirmed) else None
    events = _events_for(h, change, result, paid_on)
    await _append(conn, store, stream, h, events, cause)
    if any(isinstance(e, PremiumPaid) for e in events):
        await _restore_lapsed(conn, store, h.billed, cause)
    return change.outcome


def _events_for(
    h: BillHistory, change: domain.RegistrationChange, result: domain.BpjsResult, paid_on: date | None
) -> list[DomainEvent]:
    if not change.changed:
        return []
    b, new = h.billed, change.registration
    if new.status is RegistrationStatus.ENROLLED:
        assert isinstance(result, domain.RegistrationAccepted)
        return [
            PremiumPaid(
                programme_code=b.programme_code,
                month=b.month,
                funder=b.funder,
                regency_code=b.regency_code,
                workers=b.workers,
                jkk_total=b.jkk_total,
                jkm_total=b.jkm_total,
                total=b.total,
                payment_ref=result.kpj,
                bill_id=b.bill_id,
                paid_on=paid_on,
                worker_ids=b.worker_ids,
            )
        ]
    assert isinstance(result, domain.RegistrationRejected)
    if new.status is RegistrationStatus.FAILED:
        return [
            PremiumPaymentFailed(
                bill_id=b.bill_id,
                programme_code=b.programme_code,
                month=b.month,
                funder=b.funder,
                regency_code=b.regency_code,
                workers=b.workers,
                total=b.total,
                reason_code=result.reason_code,
                reason=result.reason,
                attempts=new.attempt,
            )
        ]
    assert new.retry_at is not None
    return [
        PremiumPaymentRetryScheduled(
            bill_id=b.bill_id,
            programme_code=b.programme_code,
            month=b.month,
            regency_code=b.regency_code,
            attempt=result.attempt,
            reason_code=result.reason_code,
            reason=result.reason,
            retry_at=new.retry_at,
        )
    ]


async def _restore_lapsed(
    conn: AsyncConnection, store: EventStore, billed: PremiumBilled, cause: Envelope
) -> None:
    """CoverageRestored for each worker whose recorded lapse began with the month now paid."""
    lapsed = (
        await conn.execute(
            select(coverage_facts.c.worker_id)
            .where(
                coverage_facts.c.programme_code == billed.programme_code,
                coverage_facts.c.kind == "lapsed",
                coverage_facts.c.month == billed.month,
                coverage_facts.c.worker_id.in_(billed.worker_ids),
            )
            .distinct()
        )
    ).scalars()
    restored_from = YearMonth.parse(billed.month).first_day
    for worker_id in sorted(lapsed):
        await store.append(
            conn,
            registration_stream(worker_id, billed.programme_code),
            [
                CoverageRestored(
                    worker_id=worker_id,
                    programme_code=billed.programme_code,
                    month_paid=billed.month,
                    restored_from=restored_from,
                    bill_id=billed.bill_id,
                )
            ],
            expected_version=None,
            correlation_id=cause.correlation_id,
            causation_id=cause.event_id,
        )


async def on_clock(
    conn: AsyncConnection,
    store: EventStore,
    config: EnrollmentConfig,
    bill_id: str,
    *,
    now: datetime,
    jitter: float,
) -> str | None:
    """Re-send a payment request whose retry is due, or count an unanswered attempt as failed."""
    stream = bill_stream(bill_id)
    h = fold(await store.load(conn, stream))
    if h is None or h.state.status is not RegistrationStatus.REQUESTED:
        return None
    if h.state.retry_at is not None:
        if not domain.retry_due(h.state, now):
            return None
        following = domain.begin_retry(h.state)
        await _append(
            conn, store, stream, h, [h.request.model_copy(update={"attempt": following.attempt})], None
        )
        return "retry"
    if now < h.sent_at + config.answer_timeout:
        return None
    result = timeout_result(h.state.attempt, config)
    change = domain.apply_result(h.state, result, config.retry, now, jitter)
    await _append(conn, store, stream, h, _events_for(h, change, result, None), None)
    return "timeout"


async def _append(
    conn: AsyncConnection,
    store: EventStore,
    stream: str,
    h: BillHistory,
    events: list[DomainEvent],
    cause: Envelope | None,
) -> None:
    if events:
        await store.append(
            conn,
            stream,
            events,
            expected_version=h.version,
            correlation_id=cause.correlation_id if cause else h.correlation_id,
            causation_id=cause.event_id if cause else h.last_request_id,
        )


# --- the month's bill as officers read it --------------------------------------------------------


async def month_summary(
    conn: AsyncConnection, programme_code: str, month: YearMonth, regency: str | None = None
) -> dict[str, Any]:
    """The month's bill per funder and regency: lines, payments and totals (refused lines apart);
    with `regency`, that regency's lines only."""
    query = select(bills).where(bills.c.programme_code == programme_code, bills.c.month == str(month))
    if regency:
        query = query.where(bills.c.regency_code == regency)
    rows = (await conn.execute(query.order_by(bills.c.funder, bills.c.regency_code, bills.c.bill_id))).all()
    per: dict[tuple[str, str], dict[str, Any]] = {}
    for r in rows:
        line = per.setdefault(
            (r.funder, r.regency_code),
            {
                "funder": r.funder,
                "regency_code": r.regency_code,
                "workers": 0,
                "jkk_total": 0,
                "jkm_total": 0,
                "total": 0,
                "workers_paid": 0,
                "paid_total": 0,
                "bills": [],
            },
        )
        if r.status != "failed":
            line["workers"] += r.workers
            line["jkk_total"] += r.jkk_total
            line["jkm_total"] += r.jkm_total
            line["total"] += r.total
        if r.status == "paid":
            line["workers_paid"] += r.workers
            line["paid_total"] += r.total
        line["bills"].append(
            {
                "bill_id": r.bill_id,
                "status": r.status,
                "workers": r.workers,
                "jkk_total": r.jkk_total,
                "jkm_total": r.jkm_total,
                "total": r.total,
                "attempts": r.attempts,
                "payment_ref": r.payment_ref,
                "paid_on": r.paid_on.isoformat() if r.paid_on else None,
                "reason_code": r.reason_code,
                "reason": r.reason,
            }
        )
    lines = list(per.values())
    keys = ("workers", "jkk_total", "jkm_total", "total", "workers_paid", "paid_total")
    statuses = [b["status"] for line in lines for b in line["bills"]]
    return {
        "programme_code": programme_code,
        "month": str(month),
        "lines": lines,
        "totals": {k: sum(line[k] for line in lines) for k in keys},
        "bills": {s: statuses.count(s) for s in ("requested", "paid", "failed")},
        "settled": all(s != "requested" for s in statuses),
    }
