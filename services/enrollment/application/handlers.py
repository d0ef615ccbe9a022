"""Enrollment's reactions to what it consumes, as a Reactor on the stream kit: register assigned
workers at BPJS, end the coverage of released ones, record BPJS's answers to registrations,
stop-payments and premium payments once, and keep the programmes it bills by (premiums,
period, seats, budget)."""

from __future__ import annotations

from collections.abc import Sequence

from libs.events.contracts.allocation import (
    AssignmentDecreed,
    BudgetChanged,
    ProgrammeDefined,
    QuotaAssigned,
    QuotaChanged,
    QuotaReleased,
)
from libs.events.contracts.bpjs import (
    DeregistrationConfirmed,
    DeregistrationRejected,
    PremiumPaymentConfirmed,
    PremiumPaymentRejected,
    RegistrationAccepted,
    RegistrationRejected,
)
from libs.events.contracts.registry import PersonForgotten
from libs.eventstore.ports import StoreTransaction
from libs.messaging.consumer import Consumed
from services.enrollment.application import premiums, registrations
from services.enrollment.application.context import EnrollmentApp
from services.enrollment.application.registrations import Answer, Assignment


class EnrollmentReactor:
    """Registration requests on assignment (or decree); outcomes on BPJS answers."""

    interested = frozenset(
        {
            ProgrammeDefined.event_type,
            QuotaChanged.event_type,
            BudgetChanged.event_type,
            QuotaAssigned.event_type,
            QuotaReleased.event_type,
            DeregistrationConfirmed.event_type,
            DeregistrationRejected.event_type,
            AssignmentDecreed.event_type,
            RegistrationAccepted.event_type,
            RegistrationRejected.event_type,
            PremiumPaymentConfirmed.event_type,
            PremiumPaymentRejected.event_type,
            PersonForgotten.event_type,
        }
    )

    def __init__(self, app: EnrollmentApp) -> None:
        self.app = app

    async def react(self, tx: StoreTransaction, items: Sequence[Consumed]) -> None:
        """The batch in order: each run of registrations to request, and each run of BPJS
        answers to registrations (a registration at most once per run), decided together;
        everything else in its place, one event at a time."""
        app = self.app
        requests: list[tuple[Assignment, Consumed]] = []
        answers: list[tuple[Answer, Consumed]] = []

        async def flush() -> None:
            if requests:
                await registrations.request_registrations(app, tx, [(e, c.clear) for e, c in requests])
                requests.clear()
            if answers:
                await registrations.apply_answers(app, tx, [(e, c.clear) for e, c in answers])
                answers.clear()

        for item in items:
            event = item.event
            if isinstance(event, AssignmentDecreed) or (
                isinstance(event, QuotaAssigned) and not event.requires_decree
            ):
                # A programme that requires a decree registers on AssignmentDecreed only.
                if answers:
                    await flush()
                requests.append((event, item))
            elif isinstance(event, RegistrationAccepted | RegistrationRejected):
                if requests or any(a.request_id == event.request_id for a, _ in answers):
                    await flush()
                answers.append((event, item))
            else:
                await flush()
                await self._one(tx, item)
        await flush()

    async def _one(self, tx: StoreTransaction, item: Consumed) -> None:
        app, event = self.app, item.event
        if isinstance(event, ProgrammeDefined | QuotaChanged | BudgetChanged | PersonForgotten):
            await app.reads_of(tx).project_consumed(item.clear)
        elif isinstance(event, QuotaReleased):
            await registrations.apply_release(app, tx, event, item.clear)
        elif isinstance(event, DeregistrationConfirmed | DeregistrationRejected):
            await registrations.apply_stop_answer(app, tx, event, item.clear)
        elif isinstance(event, PremiumPaymentConfirmed | PremiumPaymentRejected):
            await premiums.apply_payment_answer(app, tx, event, item.clear)
