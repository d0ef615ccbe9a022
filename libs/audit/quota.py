"""A programme's quota use and budget position at an instant (e.g. a month end), from its events.

ProgrammeDefined sets the seats per regency × sector, the cap and the cost per worker
((JKK + JKM) × months); QuotaChanged sets one cell's seats and BudgetChanged the cap, where they
exist. Each worker's latest decision places them: QuotaAssigned holds a seat of their cell,
QuotaWaitlisted and QuotaUnseated wait, QuotaReleased and QuotaDeclined leave. Committed rupiah =
assigned workers × cost per worker (whole rupiah, integers only), as in allocation's BudgetPosition.
Events are matched by type name, so newer decision types are read where the contracts have them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from libs.events.catalog import decode
from libs.events.envelope import Envelope

WAITING = frozenset({"QuotaWaitlisted", "QuotaUnseated"})
LEAVING = frozenset({"QuotaReleased", "QuotaDeclined"})


@dataclass
class CellPosition:
    """Seats and assigned workers of one regency × sector."""

    regency_code: str
    sector: str
    seats: int
    assigned: int = 0


@dataclass
class QuotaPosition:
    """The whole programme at one instant."""

    programme_code: str
    as_of: datetime | None
    budget_cap: int
    cost_per_worker: int
    cells: dict[tuple[str, str], CellPosition] = field(default_factory=dict)
    waitlisted: int = 0

    @property
    def seats_total(self) -> int:
        return sum(c.seats for c in self.cells.values())

    @property
    def assigned(self) -> int:
        return sum(c.assigned for c in self.cells.values())

    @property
    def committed_rupiah(self) -> int:
        return self.assigned * self.cost_per_worker

    @property
    def headroom(self) -> int:
        return max(0, self.budget_cap - self.committed_rupiah)

    @property
    def overcommitted(self) -> int:
        return max(0, self.committed_rupiah - self.budget_cap)

    def cell(self, regency: str, sector: str) -> CellPosition:
        return self.cells.setdefault((regency, sector), CellPosition(regency, sector, seats=0))


class _Positions:
    """The running position of one programme while its events are read."""

    def __init__(self, programme_code: str, as_of: datetime | None) -> None:
        self.programme_code = programme_code
        self.as_of = as_of
        self.position: QuotaPosition | None = None
        self.status: dict[str, tuple[str, tuple[str, str]]] = {}

    def apply(self, event_type: str, event: Any) -> None:
        if event_type == "ProgrammeDefined":
            cost = (event.premium_jkk + event.premium_jkm) * event.months
            if self.position is None:
                self.position = QuotaPosition(self.programme_code, self.as_of, event.budget_cap, cost)
            self.position.budget_cap, self.position.cost_per_worker = event.budget_cap, cost
            for q in event.quotas:
                self.position.cell(q.regency_code, q.sector).seats = q.seats
            return
        position = self.position
        if position is None:
            return
        if event_type == "QuotaChanged":
            position.cell(event.regency_code, event.sector).seats = event.seats
        elif event_type == "BudgetChanged":
            position.budget_cap = event.budget_cap
        elif event_type == "QuotaAssigned" or event_type in WAITING or event_type in LEAVING:
            self._leave(self.status.pop(event.worker_id, None))
            key = (event.regency_code, event.sector)
            if event_type == "QuotaAssigned":
                position.cell(*key).assigned += 1
                self.status[event.worker_id] = ("assigned", key)
            elif event_type in WAITING:
                position.waitlisted += 1
                self.status[event.worker_id] = ("waiting", key)

    def _leave(self, previous: tuple[str, tuple[str, str]] | None) -> None:
        if previous is None or self.position is None:
            return
        state, key = previous
        if state == "assigned":
            self.position.cell(*key).assigned -= 1
        else:
            self.position.waitlisted -= 1


def quota_position(
    envelopes: Iterable[Envelope], programme_code: str, as_of: datetime | None = None
) -> QuotaPosition | None:
    """The position after `envelopes` (allocation events in log order); None if never defined."""
    running = _Positions(programme_code, as_of)
    relevant = {"ProgrammeDefined", "QuotaAssigned", "QuotaChanged", "BudgetChanged"} | WAITING | LEAVING
    for envelope in envelopes:
        if envelope.event_type not in relevant:
            continue
        event = decode(envelope)
        if getattr(event, "programme_code", None) == programme_code:
            running.apply(envelope.event_type, event)
    return running.position
