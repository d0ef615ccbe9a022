"""A programme's quota use and budget position at an instant (e.g. a month end), from its events.

Replayed through allocation's own decider (lindung_cli/audit/programme.py): its quota state is the
one allocation decides from (seats per regency × sector, seated workers, the waitlist, the cap and
the cost per worker); the money is allocation's `BudgetPosition` (whole rupiah).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from libs.events.envelope import Envelope
from lindung_cli.audit.programme import replay_programme
from services.allocation.domain.budget import BudgetPosition
from services.allocation.domain.quota import QuotaState


@dataclass(frozen=True)
class CellPosition:
    """Seats and assigned workers of one regency × sector."""

    regency_code: str
    sector: str
    seats: int
    assigned: int


@dataclass(frozen=True)
class QuotaPosition:
    """The whole programme at one instant: its cells, its waitlist and its budget position."""

    programme_code: str
    as_of: datetime | None
    cells: dict[tuple[str, str], CellPosition]
    waitlisted: int
    budget: BudgetPosition

    @property
    def seats_total(self) -> int:
        return self.budget.seats_total

    @property
    def assigned(self) -> int:
        return self.budget.committed_workers

    @property
    def budget_cap(self) -> int:
        return self.budget.cap

    @property
    def cost_per_worker(self) -> int:
        return self.budget.cost_per_worker

    @property
    def committed_rupiah(self) -> int:
        return self.budget.committed_rupiah

    @property
    def headroom(self) -> int:
        return self.budget.headroom

    @property
    def overcommitted(self) -> int:
        return self.budget.overcommitted


def position_of(state: QuotaState, as_of: datetime | None) -> QuotaPosition:
    """What allocation's quota state says of the programme, cell by cell and in rupiah."""
    cells = {}
    for cell in sorted({*state.seats, *state.assigned_per_cell}):
        key = (cell.regency, str(cell.sector))
        cells[key] = CellPosition(*key, state.seats.get(cell, 0), state.assigned_per_cell.get(cell, 0))
    return QuotaPosition(state.programme_code, as_of, cells, len(state.waiting), state.budget())


def quota_position(
    envelopes: Iterable[Envelope], programme_code: str, as_of: datetime | None = None
) -> QuotaPosition | None:
    """The position after `envelopes` (allocation events in log order); None if never defined."""
    state = replay_programme(envelopes, programme_code)
    return None if state is None else position_of(state.quota, as_of)
