"""Enrollment's reactions to what it consumes: register assigned workers at BPJS, record BPJS's
answers to registrations and premium payments once, and keep the programmes it bills by."""

from __future__ import annotations

import logging
import random
from collections import Counter

from libs.events.contracts.allocation import AssignmentDecreed, ProgrammeDefined, QuotaAssigned
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import (
    PremiumPaymentConfirmed,
    PremiumPaymentRejected,
    RegistrationAccepted,
    RegistrationRejected,
)
from libs.messaging.consumer import HandlerContext
from services.enrollment.adapters.projections import project_consumed
from services.enrollment.application import premiums, registrations
from services.enrollment.application.config import EnrollmentConfig, Now, real_now

log = logging.getLogger(__name__)


class EnrollmentHandler:
    """Registration requests on assignment (or decree); outcomes on BPJS answers."""

    interested = frozenset(
        {
            ProgrammeDefined.event_type,
            QuotaAssigned.event_type,
            AssignmentDecreed.event_type,
            RegistrationAccepted.event_type,
            RegistrationRejected.event_type,
            PremiumPaymentConfirmed.event_type,
            PremiumPaymentRejected.event_type,
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

    async def __call__(self, ctx: HandlerContext, event: DomainEvent) -> None:
        if isinstance(event, ProgrammeDefined):
            await project_consumed(ctx.conn, ctx.envelope)
        elif isinstance(event, QuotaAssigned):
            # A programme that requires a decree registers on AssignmentDecreed only.
            if not event.requires_decree:
                await registrations.request_registration(ctx.conn, ctx.store, event, ctx.envelope)
        elif isinstance(event, AssignmentDecreed):
            await registrations.request_registration(ctx.conn, ctx.store, event, ctx.envelope)
        elif isinstance(event, RegistrationAccepted | RegistrationRejected):
            outcome = await registrations.apply_answer(
                ctx.conn,
                ctx.store,
                self.config,
                event,
                ctx.envelope,
                received_at=real_now(),
                jitter=self.rng.random(),
            )
            self.outcomes[f"registration:{outcome.value}"] += 1
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
            self.outcomes[f"payment:{outcome.value}"] += 1
