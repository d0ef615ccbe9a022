"""The enrollment service's background work: timeouts and retries of requests to BPJS, lapses and
ends of membership.

`deadlines_loop` looks, when the next deadline comes (rounds at least
`enrollment_clock_interval_ms` apart), for registrations and payment requests whose answer is
overdue (the attempt counts as a retryable failure, TIMEOUT) or whose retry is due (attempt + 1
is sent); an unanswered stop-payment is sent again. Each is decided in its own transaction, its read-model row
locked (SKIP LOCKED: several instances share the work) and its stream appended at the version
read, so a BPJS answer arriving at the same moment and this clock cannot both decide.

`lapses_loop` records CoverageLapsed, and MembershipEnded when arrears ran out, every
`enrollment_lapse_check_interval_s` as of today.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.eventstore.errors import ConcurrencyError
from libs.runtime.service import Runtime
from services.enrollment.adapters import answer_outcomes
from services.enrollment.adapters.tables import bills, deregistrations, registrations
from services.enrollment.application import premiums
from services.enrollment.application import registrations as regs
from services.enrollment.application.config import real_now
from services.enrollment.application.coverage import record_lapses
from services.enrollment.application.handlers import EnrollmentHandler

log = logging.getLogger(__name__)

BATCH = 200
IDLE_MAX_S = 5.0


def handler_of(rt: Runtime) -> EnrollmentHandler:
    handler = rt.definition.handler
    assert isinstance(handler, EnrollmentHandler)
    return handler


def _due(table: Any, now: datetime, timeout: timedelta) -> Any:
    return and_(
        table.c.status == "requested",
        or_(
            table.c.retry_at <= now,
            and_(table.c.retry_at.is_(None), table.c.attempt_sent_at <= now - timeout),
        ),
    )


async def _each_due(
    rt: Runtime,
    table: Any,
    keys: tuple[str, ...],
    act: Callable[[AsyncConnection, tuple[Any, ...], datetime], Awaitable[str | None]],
) -> int:
    """Decide every due row of `table`, each in its own transaction; return how many acted."""
    handler = handler_of(rt)
    now = real_now()
    async with rt.engine.connect() as conn:
        due = (
            await conn.execute(
                select(*(table.c[k] for k in keys))
                .where(_due(table, now, handler.config.answer_timeout))
                .order_by(table.c.attempt_sent_at)
                .limit(BATCH)
            )
        ).all()
    acted = 0
    for key in due:
        try:
            async with rt.engine.begin() as conn:
                locked = (
                    await conn.execute(
                        select(table.c[keys[0]])
                        .where(*(table.c[k] == v for k, v in zip(keys, key, strict=True)))
                        .where(_due(table, now, handler.config.answer_timeout))
                        .with_for_update(skip_locked=True)
                    )
                ).first()
                if locked is None:
                    continue  # answered meanwhile, or another instance has it
                done = await act(conn, tuple(key), now)
                if done:
                    outcome = f"clock:{table.name}:{done}"
                    await answer_outcomes.record_for_row(conn, table, keys, tuple(key), outcome)
            if done:
                acted += 1
                handler.outcomes[f"clock:{table.name}:{done}"] += 1
        except ConcurrencyError:
            continue  # an answer was recorded at the same moment: decide again next round
    if acted:
        rt.relay.wake()
    return acted


async def run_deadlines(rt: Runtime) -> int:
    """One pass over overdue answers and due retries of registrations and payments."""
    handler = handler_of(rt)
    config, rng = handler.config, handler.rng

    async def registration(conn: AsyncConnection, key: tuple[Any, ...], now: datetime) -> str | None:
        return await regs.on_clock(conn, rt.store, config, key[0], key[1], now=now, jitter=rng.random())

    async def payment(conn: AsyncConnection, key: tuple[Any, ...], now: datetime) -> str | None:
        return await premiums.on_clock(conn, rt.store, config, key[0], now=now, jitter=rng.random())

    async def stop(conn: AsyncConnection, key: tuple[Any, ...], now: datetime) -> str | None:
        return await regs.on_clock_stop(conn, rt.store, config, key[0], key[1], now=now)

    acted = await _each_due(rt, registrations, ("worker_id", "programme_code"), registration)
    acted += await _each_due(rt, deregistrations, ("worker_id", "programme_code"), stop)
    return acted + await _each_due(rt, bills, ("bill_id",), payment)


async def run_lapses(rt: Runtime) -> int:
    handler = handler_of(rt)
    today = handler.config.local_date(handler.now())
    async with rt.engine.begin() as conn:
        recorded = await record_lapses(conn, rt.store, handler.config, today)
    if recorded:
        rt.relay.wake()
    return recorded


async def next_deadline(rt: Runtime) -> datetime | None:
    """The earliest instant a waiting registration or payment needs the clock (None: none waits)."""
    timeout = handler_of(rt).config.answer_timeout
    found: list[datetime] = []
    async with rt.engine.connect() as conn:
        for table in (registrations, deregistrations, bills):
            waiting = table.c.status == "requested"
            retry = (
                await conn.execute(
                    select(func.min(table.c.retry_at)).where(waiting, table.c.retry_at.is_not(None))
                )
            ).scalar_one()
            sent = (
                await conn.execute(
                    select(func.min(table.c.attempt_sent_at)).where(waiting, table.c.retry_at.is_(None))
                )
            ).scalar_one()
            found += [retry] if retry is not None else []
            found += [sent + timeout] if sent is not None else []
    return min(found) if found else None


async def deadlines_loop(rt: Runtime) -> None:
    """Run `run_deadlines` when something falls due: sleeps until the next deadline, at least
    `enrollment_clock_interval_ms` and at most the shortest wait a new request could bring."""
    config = handler_of(rt).config
    shortest = min(IDLE_MAX_S, config.answer_timeout.total_seconds(), float(config.retry.base_seconds))
    while True:
        pause = shortest
        try:
            await run_deadlines(rt)
            deadline = await next_deadline(rt)
            if deadline is not None:
                pause = min(shortest, max(0.0, (deadline - real_now()).total_seconds()))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # the database may be down: try again next round
            log.warning("timeouts and retries pass failed: %s", type(exc).__name__)
        await asyncio.sleep(max(pause, config.clock_interval_s))


async def lapses_loop(rt: Runtime) -> None:
    interval = handler_of(rt).config.lapse_interval_s
    if interval <= 0:
        return
    while True:
        try:
            await run_lapses(rt)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("recording lapses failed: %s", type(exc).__name__)
        await asyncio.sleep(interval)
