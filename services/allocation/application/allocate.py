"""Deciding quota commands on programme streams through the stream kit, with the one-payer rule
across programmes.

A run is a sequence of commands of one programme, decided together by `libs.eventstore.kit.handle`
(one load, one append) in order, exactly as one by one. A decision that would seat a worker whose
holds in other programmes the run does not carry raises NeedHolds: the holds are read through the
ReadModels port (which locks the worker) and the run is decided again. A seat that outranks
another programme's provisional seat, or a waitlist place there, asks that programme to release
the worker (HELD_BY_OTHER_PROGRAMME): those follow-ups are decided next, in the same transaction,
each as a run of its own, first asked first decided.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import DBAPIError

from libs.events.contracts import allocation as wire
from libs.events.envelope import utcnow
from libs.eventstore.decider import Decider, Recorded
from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.kit import Decision, Origin, handle
from libs.eventstore.ports import StoreTransaction
from services.allocation.application.ports import ReadModels, StreamCache
from services.allocation.domain.programme_commands import (
    NeedHolds,
    ProgrammeCommand,
    QuotaCommand,
    SeatFixedMeanwhile,
    WorkerHolds,
    follow_ups,
)
from services.allocation.domain.programme_stream import ProgrammeStream
from services.allocation.domain.quota_wire import stream_of

MAX_RUNS = 1_000  # displacement chains are short; a runaway loop is a bug, not a workload
# PostgreSQL's answers when two transactions wait on each other (two programme streams, or their
# counter rows, taken in opposite orders): one of them is rolled back and should simply retry.
_RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure


class TransactionCollided(ConcurrencyError):
    """PostgreSQL rolled this transaction back to break a deadlock: retry it like a lost race."""

    def __init__(self, programme_code: str) -> None:
        Exception.__init__(self, f"deciding on {programme_code} collided with another transaction")
        self.aggregate_id = stream_of(programme_code)
        self.expected_version = None
        self.actual_version = -1


@dataclass(frozen=True)
class Asked:
    """A command and the flow it belongs to (the consumed event, or the officer's request)."""

    command: QuotaCommand
    origin: Origin


class Allocator:
    """Decides runs of quota commands (and the follow-ups their seats ask) in a transaction."""

    def __init__(
        self,
        decider: Decider[ProgrammeCommand, ProgrammeStream],
        states: StreamCache,
        read_models: ReadModels,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.decider = decider
        self.states = states
        self.read_models = read_models
        self.clock = clock
        self.races_lost = 0  # appends refused because another writer appended first (retried)

    async def run(self, tx: StoreTransaction, run: Sequence[Asked]) -> list[Recorded]:
        """Decide `run` (commands of one programme, sharing one holds mapping) and every
        follow-up; return what was recorded, in order."""
        recorded: list[Recorded] = []
        queue = deque([list(run)])
        for _ in range(MAX_RUNS):
            if not queue:
                return recorded
            current = queue.popleft()
            for decision, asked in zip(await self._settled(tx, current), current, strict=True):
                recorded += decision.recorded
                for event in decision.events:
                    if isinstance(event, wire.QuotaAssigned):
                        queue += [[Asked(c, asked.origin)] for c in follow_ups(event, asked.command.holds)]
        raise RuntimeError(f"more than {MAX_RUNS} follow-up runs from {run[0].command.programme_code}")

    async def _settled(self, tx: StoreTransaction, run: list[Asked]) -> list[Decision[ProgrammeCommand]]:
        """The run decided, with the holds of every worker it seats."""
        holds = run[0].command.holds
        if not isinstance(holds, dict) or any(a.command.holds is not holds for a in run):
            raise TypeError("the commands of a run share one holds dict")
        code = run[0].command.programme_code
        origins = {id(a.command): a.origin for a in run}
        commands: list[ProgrammeCommand] = [a.command for a in run]
        while True:
            try:
                return await handle(
                    tx,
                    self.decider,
                    commands,
                    origin=lambda command: origins[id(command)],
                    occurred_at=self.clock(),
                )
            except NeedHolds as need:
                holds.update(await self.read_models.holds_of(tx, need.workers, code))
            except SeatFixedMeanwhile as fixed:
                # Fixed by a decree since the holds were read: the displacing seat is void. Retry.
                raise ConcurrencyError(stream_of(code), None, -1) from fixed
            except ConcurrencyError:
                self.races_lost += 1
                raise
            except DBAPIError as exc:
                if getattr(exc.orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
                    raise TransactionCollided(code) from exc
                raise


def shared_holds() -> dict[str, WorkerHolds]:
    """A new holds mapping for the commands of one run."""
    return {}
