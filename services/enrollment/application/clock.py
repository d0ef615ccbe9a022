"""The enrollment service's background work: timeouts and retries of requests to BPJS.

`run_deadlines` looks for registrations, stop-payments and payment requests whose answer is
overdue (the attempt counts as a retryable failure, TIMEOUT) or whose retry is due (attempt + 1
is sent); an unanswered stop-payment is sent again. Each is decided in its own transaction on the
stream kit, its read-model row locked first (SKIP LOCKED: several instances share the work), so
a BPJS answer arriving at the same moment and this clock cannot both decide.
`deadlines_loop` runs it when the next deadline comes, rounds at least
`enrollment_clock_interval_ms` apart.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime
from typing import Any

from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.kit import Origin, StreamKit, handle
from libs.eventstore.ports import StoreTransaction
from services.enrollment.application.context import EnrollmentApp, folded
from services.enrollment.application.ports import Waiting
from services.enrollment.application.registrations import count
from services.enrollment.domain import premium_payment, registration

log = logging.getLogger(__name__)

BATCH = 200
IDLE_MAX_S = 5.0
WAITING: tuple[Waiting, ...] = ("registrations", "deregistrations", "bills")


async def _registration_due(
    app: EnrollmentApp, tx: StoreTransaction, kind: Waiting, key: tuple[Any, ...], now: datetime
) -> str | None:
    worker_id, programme_code = key
    stream = registration.registration_stream(worker_id, programme_code)
    state = (await folded(tx, app.registration, [stream]))[stream]
    stop = kind == "deregistrations"
    cause = state.stop_event_id if stop else state.last_sent_id
    origin = Origin(state.correlation_id or Origin.new().correlation_id, cause)
    command = registration.Tick(worker_id, programme_code, now, app.jitter(), origin, stop_payment=stop)
    action, _ = app.registrations.judge_tick(command, state)
    if action is not None:
        await handle(tx, app.registration, [command], origin=origin, occurred_at=now)
        programme = state.requested.programme_code if state.requested else ""
        await count(app, tx, [(programme, f"clock:{kind}:{action}")])
    return action


async def _payment_due(app: EnrollmentApp, tx: StoreTransaction, bill_id: str, now: datetime) -> str | None:
    stream = premium_payment.bill_stream(bill_id)
    state = (await folded(tx, app.bill, [stream]))[stream]
    origin = Origin(state.correlation_id or Origin.new().correlation_id, state.last_sent_id)
    command = premium_payment.PaymentTick(bill_id, now, app.jitter(), origin)
    action, _ = app.payments.judge_tick(command, state)
    if action is not None:
        await handle(tx, app.bill, [command], origin=origin, occurred_at=now)
        programme = state.billed.programme_code if state.billed else ""
        await count(app, tx, [(programme, f"clock:bills:{action}")])
    return action


async def run_deadlines(app: EnrollmentApp, kit: StreamKit) -> int:
    """One pass over overdue answers and due retries; return how many requests the clock moved."""
    now, timeout = app.real_now(), app.config.answer_timeout
    acted = 0
    for kind in WAITING:
        async with kit.store.transaction() as tx:
            due = await app.reads_of(tx).due(kind, now, timeout, BATCH)
        for key in due:

            async def decide(
                tx: StoreTransaction, kind: Waiting = kind, key: tuple[Any, ...] = key
            ) -> str | None:
                if not await app.reads_of(tx).claim_due(kind, key, now, timeout):
                    return None  # answered meanwhile, or another instance has it
                if kind == "bills":
                    return await _payment_due(app, tx, key[0], now)
                return await _registration_due(app, tx, kind, key, now)

            try:
                acted += await kit.transact(decide) is not None
            except ConcurrencyError:
                continue  # an answer was recorded at the same moment: decide again next round
    return acted


async def next_deadline(app: EnrollmentApp, kit: StreamKit) -> datetime | None:
    """The earliest instant a waiting request needs the clock (None: none waits)."""
    async with kit.store.transaction() as tx:
        return await app.reads_of(tx).next_deadline(app.config.answer_timeout)


async def deadlines_loop(app: EnrollmentApp, kit: StreamKit) -> None:
    """Run `run_deadlines` when something falls due: sleeps until the next deadline, at least
    `enrollment_clock_interval_ms` and at most the shortest wait a new request could bring."""
    config = app.config
    shortest = min(IDLE_MAX_S, config.answer_timeout.total_seconds(), float(config.retry.base_seconds))
    while True:
        pause = shortest
        try:
            await run_deadlines(app, kit)
            deadline = await next_deadline(app, kit)
            if deadline is not None:
                pause = min(shortest, max(0.0, (deadline - app.real_now()).total_seconds()))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be down: try again next round
            log.warning("timeouts and retries pass failed: %s", type(exc).__name__)
        await asyncio.sleep(max(pause, config.clock_interval_s))
