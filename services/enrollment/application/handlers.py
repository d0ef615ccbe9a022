"""Enrollment's reactions to what it consumes: register assigned workers at BPJS, end the coverage
of released ones, record BPJS's answers to registrations, stop-payments and premium payments
once, and keep the programmes it bills by (premiums, period, seats, budget)."""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.contracts.allocation import (
    AssignmentDecreed,
    BudgetChanged,
    ProgrammeDefined,
    QuotaAssigned,
    QuotaChanged,
    QuotaReleased,
)
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import (
    DeregistrationConfirmed,
    DeregistrationRejected,
    PremiumPaymentConfirmed,
    PremiumPaymentRejected,
    RegistrationAccepted,
    RegistrationRejected,
)
from libs.events.contracts.registry import PersonForgotten
from libs.events.envelope import Envelope
from libs.eventstore.store import EventStore
from libs.messaging.consumer import HandlerContext
from services.enrollment.adapters import answer_outcomes
from services.enrollment.adapters.projections import project_consumed
from services.enrollment.application import premiums, registrations
from services.enrollment.application.config import EnrollmentConfig, Now, real_now

log = logging.getLogger(__name__)


class EnrollmentHandler:
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

    def __init__(
        self, config: EnrollmentConfig, now: Now = real_now, rng: random.Random | None = None
    ) -> None:
        self.config = config
        self.now = now  # the business calendar (billing day, lapses); timeouts use real time
        self.rng = rng or random.Random()
        # What BPJS's answers did, by rule (APPLIED, DUPLICATE, STALE...): operations and tests.
        self.outcomes: Counter[str] = Counter()

    async def apply_batch(
        self, conn: AsyncConnection, store: EventStore, items: Sequence[tuple[Envelope, DomainEvent]]
    ) -> None:
        """The batch in order: each run of registrations to request, and each run of BPJS
        answers to registrations (a registration at most once per run), decided together;
        everything else in its place, one event at a time."""
        requests: list[tuple[registrations.Assignment, Envelope]] = []
        answers: list[tuple[registrations.Answer, Envelope]] = []

        async def flush() -> None:
            if requests:
                await registrations.request_registrations(conn, store, requests)
                requests.clear()
            if answers:
                await self._apply_answers(conn, store, answers)
                answers.clear()

        for envelope, event in items:
            if isinstance(event, AssignmentDecreed) or (
                isinstance(event, QuotaAssigned) and not event.requires_decree
            ):
                if answers:
                    await flush()
                requests.append((event, envelope))
            elif isinstance(event, RegistrationAccepted | RegistrationRejected):
                if requests or any(a.request_id == event.request_id for a, _ in answers):
                    await flush()
                answers.append((event, envelope))
            else:
                await flush()
                await self(HandlerContext(conn=conn, store=store, envelope=envelope), event)
        await flush()

    async def _apply_answers(
        self,
        conn: AsyncConnection,
        store: EventStore,
        answers: Sequence[tuple[registrations.Answer, Envelope]],
    ) -> None:
        outcomes = await registrations.apply_answers(
            conn,
            store,
            self.config,
            [(answer, cause, self.rng.random()) for answer, cause in answers],
            received_at=real_now(),
        )
        self.outcomes.update(f"registration:{outcome.value}" for outcome in outcomes)
        programmes = await answer_outcomes.programmes_of(conn, [answer for answer, _ in answers])
        await answer_outcomes.record(
            conn, [(p, f"registration:{o.value}") for p, o in zip(programmes, outcomes, strict=True)]
        )

    async def _count(self, conn: AsyncConnection, event: DomainEvent, outcome: str) -> None:
        """Count what an event did, in its transaction (durable, per programme: /enrollments/stats)."""
        self.outcomes[outcome] += 1
        (programme,) = await answer_outcomes.programmes_of(conn, [event])
        await answer_outcomes.record(conn, [(programme, outcome)])

    async def __call__(self, ctx: HandlerContext, event: DomainEvent) -> None:
        if isinstance(event, ProgrammeDefined | QuotaChanged | BudgetChanged | PersonForgotten):
            await project_consumed(ctx.conn, ctx.envelope)
        elif isinstance(event, QuotaReleased):
            today = self.config.local_date(self.now())
            action = await registrations.apply_release(ctx.conn, ctx.store, event, ctx.envelope, today)
            await self._count(ctx.conn, event, f"release:{action.value}")
        elif isinstance(event, DeregistrationConfirmed | DeregistrationRejected):
            # The first answer to a stop-payment is recorded (a confirmation, or a final refusal:
            # BPJS pays for nobody there); repeats change nothing.
            first = await registrations.first_stop_answer(ctx.conn, event)
            if first is None:
                # Not a stop-payment Lindung sent: BPJS's mistake, parked for an operator.
                raise LookupError(f"BPJS answered stop-payment {event.request_id} that Lindung never sent")
            await project_consumed(ctx.conn, ctx.envelope)
            await self._count(ctx.conn, event, f"deregistration:{'APPLIED' if first else 'DUPLICATE'}")
        elif isinstance(event, QuotaAssigned):
            # A programme that requires a decree registers on AssignmentDecreed only.
            if not event.requires_decree:
                await registrations.request_registration(ctx.conn, ctx.store, event, ctx.envelope)
        elif isinstance(event, AssignmentDecreed):
            await registrations.request_registration(ctx.conn, ctx.store, event, ctx.envelope)
        elif isinstance(event, RegistrationAccepted | RegistrationRejected):
            await self._apply_answers(ctx.conn, ctx.store, [(event, ctx.envelope)])
        elif isinstance(event, PremiumPaymentConfirmed | PremiumPaymentRejected):
            outcome = await premiums.apply_answer(
                ctx.conn,
                ctx.store,
                self.config,
                event,
                ctx.envelope,
                received_at=real_now(),
                jitter=self.rng.random(),
            )
            await self._count(ctx.conn, event, f"payment:{outcome.value}")
