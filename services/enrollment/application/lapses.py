"""Lapses and ends of membership, recorded as the calendar moves on: every
`enrollment_lapse_check_interval_s` (and on an admin's request), as of today on the business
calendar, from each enrolled worker's coverage ledger (domain/coverage.py decides)."""

from __future__ import annotations

import asyncio
import logging

from libs.events.contracts.enrollment import CoverageLapsed
from libs.eventstore.kit import Origin, StreamKit, handle
from libs.eventstore.ports import StoreTransaction
from services.enrollment.application.context import EnrollmentApp, folded
from services.enrollment.domain.registration import (
    Command,
    EndMembership,
    RecordFact,
    registration_stream,
)

log = logging.getLogger(__name__)

# Programmes ended longer ago than this are not swept for lapses any more.
LAPSE_AFTER_END_DAYS = 62


async def record_lapses(app: EnrollmentApp, tx: StoreTransaction) -> int:
    """Record, for every enrolled worker, the end of the BPU membership when more months went
    unpaid than arrears allow (MembershipEnded, CoverageEnded, a stop-payment), else
    CoverageLapsed when coverage ended by today because a month went unpaid past grace (once per
    unpaid month). Returns how many were recorded."""
    reads = app.reads_of(tx)
    if not await reads.try_lock_lapses():
        return 0  # another instance is recording lapses right now
    today, policy = app.today(), app.config.coverage
    ledgers = await reads.enrolled_ledgers(today, LAPSE_AFTER_END_DAYS)
    ends = {key: ledger.membership_end_to_record(today, policy) for key, ledger in ledgers.items()}
    # The end of a membership is caused by the registration's latest attempt, in its flow.
    states = await folded(
        tx, app.registration, [registration_stream(*key) for key, end in ends.items() if end]
    )
    commands: list[Command] = []
    for (worker_id, programme_code), ledger in sorted(ledgers.items()):
        ended = ends[(worker_id, programme_code)]
        if ended is not None:
            state = states[registration_stream(worker_id, programme_code)]
            origin = Origin(state.correlation_id or Origin.new().correlation_id, state.last_sent_id)
            commands.append(
                EndMembership(
                    worker_id,
                    programme_code,
                    tuple(str(m) for m in ended.months_unpaid),
                    ended.ended_on,
                    policy.arrears_months,
                    origin,
                )
            )
            continue
        lapse = ledger.lapse_to_record(today, policy)
        if lapse is not None:
            fact = CoverageLapsed(
                worker_id=worker_id,
                programme_code=programme_code,
                lapsed_on=lapse.coverage_ended_on,
                month_unpaid=str(lapse.month),
                recorded_on=lapse.recorded_on,
                grace_months=policy.grace_months,
            )
            commands.append(RecordFact(fact, Origin.new()))
    decisions = await handle(
        tx, app.registration, commands, origin=lambda c: c.origin, occurred_at=app.real_now()
    )
    recorded = sum(1 for d in decisions if d.recorded)
    if recorded:
        log.info("recorded %s coverage lapses as of %s", recorded, today)
    return recorded


async def run_lapses(app: EnrollmentApp, kit: StreamKit) -> int:
    """`record_lapses` in a transaction of its own (retried when it lost a race)."""
    return await kit.transact(lambda tx: record_lapses(app, tx))


async def lapses_loop(app: EnrollmentApp, kit: StreamKit) -> None:
    """Record lapses every `enrollment_lapse_check_interval_s` (0: never on its own)."""
    interval = app.config.lapse_interval_s
    if interval <= 0:
        return
    while True:
        try:
            await run_lapses(app, kit)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("recording lapses failed: %s", type(exc).__name__)
        await asyncio.sleep(interval)
