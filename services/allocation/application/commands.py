"""The province admin's commands: define a programme, change seats or the budget, issue a decree
(SK). Each runs in a transaction of the stream kit (`StreamKit.transact`: retried when a consumer
appended to the same programme first, the relay woken after commit). Refusals carry a machine
code and a message for officers, in Indonesian (domain/refusals.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from libs.events.contracts.allocation import DecreeIssued
from libs.eventstore.decider import Recorded
from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.kit import Decision, Origin, StreamKit, handle
from libs.eventstore.ports import StoreTransaction
from services.allocation.application.allocate import Allocator, Asked
from services.allocation.application.decrees import DecreeSummary, summary_of
from services.allocation.domain.decree_issue import IssueDecree, recorded_decree
from services.allocation.domain.programme import DecreeKind, Programme
from services.allocation.domain.programme_commands import (
    DefineProgramme,
    MoveSeats,
    ProgrammeCommand,
    QuotaCommand,
    SetBudget,
    SetSeats,
)
from services.allocation.domain.programme_facts import programme_defined
from services.allocation.domain.quota_wire import stream_of
from services.allocation.domain.refusals import Refused

__all__ = ["ChangeResult", "Commands", "Refused"]

T = TypeVar("T")


@dataclass
class ChangeResult:
    """What a quota or budget change decided."""

    programme_code: str
    changed: bool
    events: list[str] = field(default_factory=list)
    promoted: list[str] = field(default_factory=list)
    released: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, code: str, recorded: list[Recorded]) -> ChangeResult:
        """The result of a change that recorded `recorded` (in every programme it touched)."""
        envelopes = [r.envelope for r in recorded]
        mine = [e for e in envelopes if e.payload.get("programme_code") == code]
        return cls(
            programme_code=code,
            changed=bool(envelopes),
            events=[e.event_type for e in envelopes],
            promoted=[e.payload["worker_id"] for e in mine if e.event_type == "QuotaAssigned"],
            released=[e.payload["worker_id"] for e in mine if e.event_type == "QuotaReleased"],
        )


class Commands:
    """The admin's commands over the programme streams (see the module doc)."""

    def __init__(self, allocator: Allocator) -> None:
        self.allocator = allocator

    async def define_programme(self, kit: StreamKit, programme: Programme) -> bool:
        """Record the programme; False when the identical definition exists already (idempotent);
        ProgrammeAlreadyDefined when another one does."""
        command = DefineProgramme(programme_defined(programme))

        async def work(tx: StoreTransaction) -> bool:
            decisions = await self._handle(tx, command)
            return bool(decisions[0].recorded)

        return await self._transact(kit, work)

    async def set_seats(
        self, kit: StreamKit, code: str, regency: str, sector: str, seats: int, note: str
    ) -> ChangeResult:
        """Raise or cut one cell's seats; a raise re-flows the waitlist."""
        return await self._change(kit, SetSeats(code, regency, sector, seats, note))

    async def move_seats(
        self,
        kit: StreamKit,
        code: str,
        source: tuple[str, str],
        target: tuple[str, str],
        seats: int,
        note: str,
    ) -> ChangeResult:
        """Move seats between two cells (between regencies or sectors)."""
        return await self._change(kit, MoveSeats(code, source, target, seats, note))

    async def set_budget(self, kit: StreamKit, code: str, budget_cap: int, note: str) -> ChangeResult:
        """Set the budget cap (e.g. APBD-P); a raise re-flows the waitlist."""
        return await self._change(kit, SetBudget(code, budget_cap, note))

    async def issue_decree(
        self,
        kit: StreamKit,
        code: str,
        decree_number: str,
        decree_date: dt.date,
        signer: str,
        kind: DecreeKind | None = None,
    ) -> DecreeSummary:
        """Record decree `decree_number` (idempotent for the same number, date and signer)."""
        command = IssueDecree(code, decree_number, decree_date, signer, kind)

        async def work(tx: StoreTransaction) -> DecreeSummary:
            tx = self.allocator.states.over(tx)
            decisions = await self._handle(tx, command)
            events = decisions[0].events
            if events:
                issued = events[0]
                assert isinstance(issued, DecreeIssued) and issued.kind is not None
                return summary_of(issued, created=True, kind=DecreeKind(issued.kind))
            # The same decree again: answered as the stream recorded it.
            loaded = (await tx.load([stream_of(code)]))[stream_of(code)]
            state = self.allocator.decider.fold(loaded.recorded)
            same = recorded_decree(state, decree_number.strip())
            assert same is not None
            return summary_of(same, created=False, kind=state.defined(code).decree_kind)

        return await self._transact(kit, work)

    async def _change(self, kit: StreamKit, command: QuotaCommand) -> ChangeResult:
        async def work(tx: StoreTransaction) -> ChangeResult:
            # Holds read (and workers locked) by an attempt that lost a race are read again.
            fresh = dataclasses.replace(command, holds={})
            recorded = await self.allocator.run(self.allocator.states.over(tx), [Asked(fresh, Origin.new())])
            return ChangeResult.of(command.programme_code, recorded)

        return await self._transact(kit, work)

    async def _handle(
        self, tx: StoreTransaction, command: DefineProgramme | IssueDecree
    ) -> list[Decision[ProgrammeCommand]]:
        return await handle(
            self.allocator.states.over(tx),
            self.allocator.decider,
            [command],
            origin=Origin.new(),
            occurred_at=self.allocator.clock(),
        )

    async def _transact(self, kit: StreamKit, work: Callable[[StoreTransaction], Awaitable[T]]) -> T:
        try:
            return await kit.transact(work)
        except ConcurrencyError:
            raise Refused(
                503, "ALLOCATION_BUSY", "Sistem alokasi sedang sibuk; silakan coba lagi sebentar lagi."
            ) from None
