"""What enrollment's handlers decide with, as the composition root (bootstrap.py) built it: the
configuration, the business calendar, real time for timeouts, the jitter of retries, the read
port of a transaction, and the two deciders of requests to BPJS."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TypeVar

from libs.events.contracts.base import DomainEvent
from libs.eventstore.decider import C, Decider, S
from libs.eventstore.ports import StoreTransaction
from services.enrollment.application.config import EnrollmentConfig, Now, real_now
from services.enrollment.application.ports import EnrollmentReads
from services.enrollment.domain import premium_payment, registration
from services.enrollment.domain.premium_payment import Payments
from services.enrollment.domain.registration import Registrations


@dataclass
class EnrollmentApp:
    """Enrollment's application layer (see the module doc)."""

    config: EnrollmentConfig
    reads_of: Callable[[StoreTransaction], EnrollmentReads]
    now: Now = real_now  # the business calendar (billing day, lapses, releases)
    real_now: Now = real_now  # timeouts and backoff always run on real time
    rng: random.Random = field(default_factory=random.Random)
    # What BPJS's answers did, by rule (APPLIED, DUPLICATE, STALE...): operations and tests.
    outcomes: Counter[str] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.registrations = Registrations(self.config.requests, self.config.local_date)
        self.payments = Payments(self.config.requests, self.config.local_date)
        self.registration: Decider[registration.Command, registration.Registration] = (
            self.registrations.decider()
        )
        self.bill: Decider[premium_payment.Command, premium_payment.Bill] = self.payments.decider()

    def today(self) -> date:
        """Today on the business calendar, where the programme runs."""
        return self.config.local_date(self.now())

    def jitter(self) -> float:
        """A draw that spreads retries (equal jitter, bpjs_request.backoff_seconds)."""
        return self.rng.random()


async def folded(tx: StoreTransaction, decider: Decider[C, S], stream_ids: Sequence[str]) -> dict[str, S]:
    """The states of streams as this transaction reads them (what the clock names as the cause of
    what it decides, before the kit decides on the same state)."""
    loaded = await tx.load(list(dict.fromkeys(stream_ids)))
    return {stream_id: decider.fold(stream.recorded) for stream_id, stream in loaded.items()}


V = TypeVar("V")


def judged(
    decider: Decider[C, S], judge: Callable[[C, S], tuple[V, Sequence[DomainEvent]]]
) -> tuple[Decider[C, S], list[V]]:
    """`decider` deciding with `judge`, which also says what each command did (the rule an
    answer applied, the action a release took), and the list those verdicts are kept in, in
    the order the kit decides: a handler reports on the very state the kit decided on."""
    verdicts: list[V] = []

    def decide(command: C, state: S) -> Sequence[DomainEvent]:
        verdict, events = judge(command, state)
        verdicts.append(verdict)
        return events

    return replace(decider, decide=decide), verdicts
