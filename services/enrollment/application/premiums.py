"""BPJS's answers to premium payments, handled on the stream kit (domain/premium_payment.py
decides); a month paid restores the coverage of the workers whose lapse began with it."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import PremiumPaymentConfirmed, PremiumPaymentRejected
from libs.events.contracts.enrollment import CoverageRestored, PremiumBilled, PremiumPaid
from libs.events.envelope import Envelope
from libs.eventstore.kit import Origin, handle
from libs.eventstore.ports import StoreTransaction
from services.enrollment.application.context import EnrollmentApp, judged
from services.enrollment.application.registrations import count
from services.enrollment.domain.bpjs_request import Outcome
from services.enrollment.domain.months import YearMonth
from services.enrollment.domain.premium_payment import ApplyPayment, Bill, Command, outcome_name
from services.enrollment.domain.registration import RecordFact

log = logging.getLogger(__name__)


async def apply_payment_answer(
    app: EnrollmentApp,
    tx: StoreTransaction,
    answer: PremiumPaymentConfirmed | PremiumPaymentRejected,
    cause: Envelope,
) -> Outcome:
    """Record what BPJS's answer to a payment request changes; count and return the rule applied."""
    await app.reads_of(tx).lock_bill(answer.payment_request_id)
    command = ApplyPayment(answer, app.real_now(), app.jitter(), Origin.of(cause))

    def judge(
        command: Command, state: Bill
    ) -> tuple[tuple[Outcome, PremiumBilled | None], Sequence[DomainEvent]]:
        assert isinstance(command, ApplyPayment)
        outcome, events = app.payments.judge_answer(command, state)
        return (outcome, state.billed), events

    deciding, verdicts = judged(app.bill, judge)
    (decision,) = await handle(
        tx, deciding, [command], origin=command.origin, occurred_at=command.received_at
    )
    ((outcome, billed),) = verdicts
    assert billed is not None  # judge_answer refuses an answer to a line never billed
    if outcome is Outcome.CONFLICT:
        log.warning("payment %s confirmed twice under different receipts", answer.payment_request_id)
    if any(isinstance(e, PremiumPaid) for e in decision.events):
        await restore_lapsed(app, tx, billed, command.origin)
    await count(app, tx, [(billed.programme_code, f"payment:{outcome_name(outcome)}")])
    return outcome


async def restore_lapsed(
    app: EnrollmentApp, tx: StoreTransaction, billed: PremiumBilled, origin: Origin
) -> None:
    """CoverageRestored for each worker whose recorded lapse began with the month now paid."""
    lapsed = await app.reads_of(tx).lapsed_workers(billed.programme_code, billed.month, billed.worker_ids)
    restored_from = YearMonth.parse(billed.month).first_day
    commands = [
        RecordFact(
            CoverageRestored(
                worker_id=worker_id,
                programme_code=billed.programme_code,
                month_paid=billed.month,
                restored_from=restored_from,
                bill_id=billed.bill_id,
            ),
            origin,
        )
        for worker_id in lapsed
    ]
    if commands:
        await handle(tx, app.registration, commands, origin=origin, occurred_at=app.real_now())
