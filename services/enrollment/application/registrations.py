"""Registrations at BPJS, handled on the stream kit: an assignment (or its decree) sends attempt 1,
BPJS's answers move the request (domain/registration.py decides), a release ends the coverage and
stops the payment, and BPJS's answers to stop-payments are recorded once.

Each handler runs in the caller's transaction (the consumer's batch); what it counts per programme
(the rule an answer applied, the action a release took) is the verdict of the very decision the
kit made (`context.judged`).
"""

from __future__ import annotations

from collections.abc import Sequence

from libs.events.contracts.allocation import AssignmentDecreed, QuotaAssigned, QuotaReleased
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import (
    DeregistrationConfirmed,
    DeregistrationRejected,
    RegistrationAccepted,
    RegistrationRejected,
    RegistrationRequested,
)
from libs.events.envelope import Envelope
from libs.eventstore.kit import Origin, handle
from libs.eventstore.ports import StoreTransaction
from services.enrollment.application.context import EnrollmentApp, judged
from services.enrollment.domain.registration import (
    ApplyAnswer,
    Command,
    Registration,
    Release,
    RequestRegistration,
    request_id_of,
)
from services.enrollment.domain.registration_events import outcome_name

Assignment = QuotaAssigned | AssignmentDecreed
Answer = RegistrationAccepted | RegistrationRejected


def first_request(event: Assignment, kpj: str | None = None) -> RegistrationRequested:
    """Attempt 1 of the registration an assignment (or its decree) calls for; `kpj` is the one
    the worker already holds (a continuing participant), if enrollment knows it."""
    return RegistrationRequested(
        request_id=request_id_of(event.worker_id, event.programme_code),
        attempt=1,
        worker_id=event.worker_id,
        programme_code=event.programme_code,
        identity=event.identity,
        funder=event.funder,
        regency_code=event.regency_code,
        sector=event.sector,
        coverage_start=event.coverage_start,
        coverage_end=event.coverage_end,
        kpj=kpj,
    )


async def request_registrations(
    app: EnrollmentApp, tx: StoreTransaction, assignments: Sequence[tuple[Assignment, Envelope]]
) -> int:
    """Send attempt 1 of each assigned worker's registration unless it was sent before (a
    replayed or repeated assignment asks BPJS nothing new); return how many were sent."""
    held = await app.reads_of(tx).known_kpjs([event.worker_id for event, _ in assignments])
    commands = [
        RequestRegistration(first_request(event, held.get(event.worker_id)), Origin.of(cause))
        for event, cause in assignments
    ]
    decisions = await handle(
        tx, app.registration, commands, origin=lambda c: c.origin, occurred_at=app.real_now()
    )
    return sum(1 for d in decisions if d.recorded)


async def apply_answers(
    app: EnrollmentApp, tx: StoreTransaction, answers: Sequence[tuple[Answer, Envelope]]
) -> None:
    """Record what BPJS's answers (to distinct registrations) change, together; count the rule
    each applied (APPLIED, DUPLICATE, STALE, KPJ_CONFLICT, UNKNOWN_ATTEMPT) per programme."""
    request_ids = [answer.request_id for answer, _ in answers]
    if len(set(request_ids)) != len(request_ids):
        raise ValueError("one batch of answers names a registration twice: apply them in turn")
    await app.reads_of(tx).lock_registrations(request_ids)
    received_at = app.real_now()
    commands = [ApplyAnswer(answer, received_at, app.jitter(), Origin.of(cause)) for answer, cause in answers]

    def judge(command: Command, state: Registration) -> tuple[tuple[str, str], Sequence[DomainEvent]]:
        assert isinstance(command, ApplyAnswer)
        outcome, events = app.registrations.judge_answer(command, state)
        programme = state.requested.programme_code if state.requested else ""
        return (programme, f"registration:{outcome_name(outcome)}"), events

    deciding, counted = judged(app.registration, judge)
    await handle(tx, deciding, commands, origin=lambda c: c.origin, occurred_at=received_at)
    await count(app, tx, counted)


async def apply_release(
    app: EnrollmentApp, tx: StoreTransaction, release: QuotaReleased, cause: Envelope
) -> None:
    """End the coverage of a worker allocation released (domain/release.py), dated today on the
    business calendar. A worker enrollment never asked BPJS about has nothing to end."""
    await app.reads_of(tx).lock_registration(release.worker_id, release.programme_code)
    command = Release(release, app.today(), Origin.of(cause))
    deciding, actions = judged(app.registration, app.registrations.judge_release)
    await handle(tx, deciding, [command], origin=command.origin, occurred_at=app.real_now())
    await count(app, tx, [(release.programme_code, f"release:{action.value}") for action in actions])


async def apply_stop_answer(
    app: EnrollmentApp,
    tx: StoreTransaction,
    answer: DeregistrationConfirmed | DeregistrationRejected,
    cause: Envelope,
) -> None:
    """Record BPJS's first answer to a stop-payment (a confirmation, or a final refusal: BPJS pays
    for nobody there); repeats change nothing."""
    reads = app.reads_of(tx)
    first = await reads.first_stop_answer(answer)
    if first is None:
        # Not a stop-payment Lindung sent: BPJS's mistake, parked for an operator.
        raise LookupError(f"BPJS answered stop-payment {answer.request_id} that Lindung never sent")
    is_first, programme = first
    await reads.project_consumed(cause)
    await count(app, tx, [(programme, f"deregistration:{'APPLIED' if is_first else 'DUPLICATE'}")])


async def count(app: EnrollmentApp, tx: StoreTransaction, outcomes: Sequence[tuple[str, str]]) -> None:
    """Count what events did, in their transaction (durable, per programme: /enrollments/stats)."""
    app.outcomes.update(outcome for _, outcome in outcomes)
    await app.reads_of(tx).count(outcomes)
