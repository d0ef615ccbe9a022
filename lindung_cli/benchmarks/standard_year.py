"""The standard programme year the seed tests and the bench run: seated, waiting and rejected
workers through the three doors, the decree, BPJS, and twelve months of bills with the plan's
events (a death and a promotion, a withdrawal, a late month paid in arrears, a lapse claim, and
when asked a stretch of unpaid months that ends memberships)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from lindung_cli.benchmarks.programme_file import add_months, first_day, seats_of
from lindung_cli.benchmarks.running_stack import Stack
from lindung_cli.benchmarks.year import Year, bill_day
from lindung_cli.benchmarks.year_books import Member
from lindung_cli.benchmarks.year_people import Worker, p3ke_rows


@dataclass
class Plan:
    """What happens in the year besides paying: who dies, who leaves, which month is paid late,
    who stops being paid for (a regency, or the whole programme: None) from which month."""

    signer: str
    death_in: int = 2  # index of the month the worker dies in (0 = the first month)
    withdrawal_in: int = 4
    late_month: int | None = 5  # not billed on time, paid with the bill two months later
    stop_from: int | None = None  # months from here on are never billed for `stop_for`
    stop_for: str | None = None  # a regency code; None with stop_from: the whole programme


@dataclass
class Outcome:
    year: Year
    members: dict[str, Member]
    dead: Member | None = None
    withdrawn: Member | None = None
    promoted: Member | None = None
    stopped: list[Member] = field(default_factory=list)
    lapse_claims: list[tuple[Member, date]] = field(default_factory=list)
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # the registry's, by NIK


async def run_year(
    stack: Stack,
    spec: dict[str, Any],
    seated: list[Worker],
    plan: Plan,
    *,
    waiting: list[Worker] = (),  # type: ignore[assignment]
    others: list[Worker] = (),  # type: ignore[assignment]
    extract: dict[str, int] | None = None,
    dtks: Iterable[str] = (),
    before_decree: Callable[[Year], Awaitable[None]] | None = None,
    tune: Callable[[Year], None] | None = None,
) -> Outcome:
    """The standard year: `seated` (exactly the seats: each takes one), then `waiting` (no seat left:
    the first is promoted when the worker of `plan.death_in` dies), and `others` (rejected) through
    the three doors; the decree; BPJS; the months with the plan's events. `extract`: the P3KE rows
    to import (default: every seated and waiting worker at their desil). `tune` adjusts the
    year's pace (HTTP concurrency, polling, timeouts) before it starts."""
    year = Year(stack, spec)
    if tune is not None:
        tune(year)
    months = year.months
    start = first_day(months[0])
    stack.today(start - timedelta(days=45))
    await year.timed("define", year.define())
    rows = p3ke_rows([*seated, *waiting]) if extract is None else extract
    await year.timed("reference", stack.import_reference(rows, dtks))
    answers = await year.timed("nominate", year.nominate([*seated, *others]))
    if waiting:  # after every other nomination: they wait for a seat, in this order
        answers.update(await year.timed("nominate", year.nominate(list(waiting), doors=("http",))))
    await year.timed("validate+allocate", stack.settle())
    members = {stack.worker_id(w): Member(w, stack.worker_id(w)) for w in [*seated, *waiting]}
    for m in members.values():
        m.nomination_id = str(answers[m.worker.nik].get("nomination_id") or "")
    if before_decree is not None:
        await before_decree(year)
    await year.timed("decree", year.decree(start - timedelta(days=20), plan.signer))
    first = [members[stack.worker_id(w)] for w in seated]
    await year.timed("enroll", year.wait_enrolled(first, months[0]))
    year.books.members.update({m.worker_id: m for m in first})
    await year.timed("enroll", stack.settle())
    outcome = Outcome(year, members, answers=answers)

    stopped_regency = plan.stop_for if plan.stop_from is not None else None
    for k, month in enumerate(months):
        # Bills for month k go out ten days before it (premiums are paid in advance).
        to_bill = [] if k == plan.late_month else [k]
        if plan.late_month is not None and k == plan.late_month + 2:
            to_bill = [plan.late_month, k]  # the late month in arrears, with this month's
        for j in to_bill:
            await year.timed("bill", _bill_month(year, plan, months[j], bill_day(months, k), j))
        unpaid = k == plan.late_month or (plan.stop_from is not None and k >= plan.stop_from)
        if unpaid:
            # The month started unpaid: enrollment records the lapse on the day it checks (once
            # BPJS has confirmed every payment sent before).
            await year.timed("bill", stack.settle())
            await year.record_lapses(first_day(month) + timedelta(days=2))
        if k == plan.late_month and len(first) > 2:
            # A claim while the lapse is in force (before the arrears are paid), days after the
            # lapse was recorded: claims has heard of it by then.
            await stack.settle()
            claimant = first[2]
            incident = first_day(month) + timedelta(days=3)
            year.stack.today(incident + timedelta(days=2))
            await year.claim(claimant, "JKK", "MEDICAL", incident, 1_500_000, f"{year.code}-LAPSE")
            outcome.lapse_claims.append((claimant, incident))
        if k == plan.death_in and len(first) > 2:
            dead = first[0]
            await year.withdraw(dead, "died", first_day(month) + timedelta(days=14), month)
            outcome.dead = dead
            await stack.settle()
            if waiting:
                promoted = members[stack.worker_id(waiting[0])]
                await year.timed("decree", year.decree(first_day(month) + timedelta(days=17), plan.signer))
                await year.timed("enroll", year.wait_enrolled([promoted], month))
                year.books.members[promoted.worker_id] = promoted
                outcome.promoted = promoted
                # Paid from the next month: this month's premium for the seat went with the worker
                # who died (a month's bill never holds more workers than the programme has seats).
        if k == plan.withdrawal_in and len(first) > 2:
            gone = first[1]
            await year.withdraw(gone, "moved", first_day(month) + timedelta(days=14), month)
            outcome.withdrawn = gone
            await stack.settle()
    await year.timed("bill", stack.settle())
    if plan.stop_from is not None:
        outcome.stopped = [
            m
            for m in year.books.members.values()
            if m.ended is None and (stopped_regency is None or m.worker.regency == stopped_regency)
        ]
        # Past the end: more months unpaid than BPJS accepts in arrears ends the membership.
        await year.record_lapses(first_day(add_months(months[-1], 1)) + timedelta(days=15))
        await stack.settle()
        for m in outcome.stopped:
            m.membership_ended = True
    return outcome


async def _bill_month(year: Year, plan: Plan, month: str, day: date, index: int) -> None:
    """Bill `month`, except for whoever the plan stops paying for from `plan.stop_from`."""
    if plan.stop_from is None or index < plan.stop_from:
        await year.bill(month, day)
        return
    if plan.stop_for is None:
        return  # the whole programme stops paying
    for regency in sorted({r for r, _ in seats_of(year.spec)} - {plan.stop_for}):
        await year.bill(month, day, regency)
