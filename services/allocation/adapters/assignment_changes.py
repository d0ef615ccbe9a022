"""What a batch of seat events does to the assignments rows and the counters, worked out in memory.

The event-by-event projection (projections.py) writes each QuotaAssigned, QuotaWaitlisted,
QuotaDeclined, QuotaUnseated, QuotaReleased and AssignmentDecreed as it comes: an upsert or an
update of the worker's row, and counter moves (the programme's assigned and waitlisted, the quota
cell's assigned) that depend on the row's status just before. `AssignmentChanges` plays the same
events in the same order over the statuses the rows had before the batch, and keeps only the net
result: one change per row (the columns the events set, last one wins; inserted when an upsert
created it) and one delta per counter. Written at once (batch_projection.py), it leaves the same
rows and counts as the events one by one (tests/unit/allocation/test_assignment_changes.py).

Pure: no SQL here, so the bookkeeping is unit-tested without a database.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from libs.desil import rank_desil
from libs.events.contracts import allocation as wire
from libs.events.contracts.base import DomainEvent

Key = tuple[str, str]  # (programme_code, worker_id)
Cell = tuple[str, str, str]  # (programme_code, regency_code, sector)

# The events this bookkeeping covers; every other allocation event is projected on its own.
ROW_EVENTS = (
    wire.QuotaAssigned,
    wire.QuotaWaitlisted,
    wire.QuotaDeclined,
    wire.QuotaUnseated,
    wire.QuotaReleased,
    wire.AssignmentDecreed,
)


def _nominee(event: wire.QuotaAssigned | wire.QuotaWaitlisted, at: datetime) -> dict[str, Any]:
    """The columns a seat and a waitlist place both write: who the worker is, fresh."""
    return {
        "nomination_id": event.nomination_id,
        "regency_code": event.regency_code,
        "sector": event.sector,
        "decile": event.decile,
        "identity": event.identity.model_dump(),
        "nomination_seq": event.nomination_seq,
        "release_reason": None,
        "held_by": None,
        "updated_at": at,
    }


def assigned_values(event: wire.QuotaAssigned, at: datetime) -> dict[str, Any]:
    """The columns a QuotaAssigned upserts."""
    return _nominee(event, at) | {
        "status": "assigned",
        "position": None,
        "desil_rank": rank_desil(event.decile),
        "decree_round": None,
        "wait_reason": None,
        "unseated_by": None,
    }


def waitlisted_values(event: wire.QuotaWaitlisted, at: datetime) -> dict[str, Any]:
    """The columns a QuotaWaitlisted upserts (a decree and who unseated them stay)."""
    return _nominee(event, at) | {
        "status": "waitlisted",
        "position": event.position,
        "desil_rank": event.decile,
        "decree_round": event.decree_round,
        "wait_reason": event.reason,
    }


def declined_values(event: wire.QuotaDeclined, at: datetime) -> dict[str, Any]:
    """The columns a QuotaDeclined upserts."""
    return {
        "nomination_id": event.nomination_id,
        "status": "declined",
        "regency_code": event.regency_code,
        "sector": event.sector,
        "position": None,
        "held_by": event.held_by,
        "updated_at": at,
    }


def unseated_values(event: wire.QuotaUnseated, at: datetime) -> dict[str, Any]:
    """The columns a QuotaUnseated updates (the row stays otherwise)."""
    return {
        "status": "waitlisted",
        "position": event.position,
        "decree_round": event.decree_round,
        "wait_reason": event.reason,
        "unseated_by": event.by_worker_id,
        "updated_at": at,
    }


def released_values(event: wire.QuotaReleased, at: datetime) -> dict[str, Any]:
    """The columns a QuotaReleased updates."""
    return {
        "status": "released",
        "release_reason": event.reason,
        "held_by": event.held_by,
        "position": None,
        "updated_at": at,
    }


@dataclass
class RowChange:
    """The net change of one assignments row: the columns set, and whether the row is new."""

    insert: bool
    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class AssignmentChanges:
    """Seat events played over the rows' statuses before the batch (see the module doc)."""

    statuses: dict[Key, str]  # the row's status now; a key absent has no row
    rows: dict[Key, RowChange] = field(default_factory=dict)
    programmes: dict[str, list[int]] = field(default_factory=dict)  # code -> [assigned, waitlisted]
    cells: dict[Cell, int] = field(default_factory=dict)

    @classmethod
    def over(cls, statuses: Mapping[Key, str]) -> AssignmentChanges:
        """Changes starting from these rows (key -> status; rows not named do not exist)."""
        return cls(dict(statuses))

    def apply(self, event: DomainEvent, at: datetime) -> None:
        """Play one event of ROW_EVENTS, as projections.project would write it."""
        if isinstance(event, wire.QuotaAssigned):
            was_waiting = self._upsert(event, assigned_values(event, at)) == "waitlisted"
            self._count(event.programme_code, assigned=+1, waitlisted=-int(was_waiting))
            self._cell(event.programme_code, event.regency_code, event.sector, +1)
        elif isinstance(event, wire.QuotaWaitlisted):
            was_waiting = self._upsert(event, waitlisted_values(event, at)) == "waitlisted"
            self._count(event.programme_code, waitlisted=1 - int(was_waiting))
        elif isinstance(event, wire.QuotaDeclined):
            self._upsert(event, declined_values(event, at))
        elif isinstance(event, wire.QuotaUnseated):
            self._update(event, unseated_values(event, at))
            self._count(event.programme_code, assigned=-1, waitlisted=+1)
            self._cell(event.programme_code, event.regency_code, event.sector, -1)
        elif isinstance(event, wire.QuotaReleased):
            previous = self._update(event, released_values(event, at))
            if previous == "assigned":
                self._count(event.programme_code, assigned=-1)
                self._cell(event.programme_code, event.regency_code, event.sector, -1)
            elif previous == "waitlisted":
                self._count(event.programme_code, waitlisted=-1)
        elif isinstance(event, wire.AssignmentDecreed):
            self._update(event, {"decreed_in": event.decree_number})
        else:
            raise TypeError(f"{type(event).__name__} is projected on its own")

    def programme_deltas(self) -> dict[str, tuple[int, int]]:
        """Each programme's net (assigned, waitlisted) moves, zero moves left out."""
        return {code: (a, w) for code, (a, w) in self.programmes.items() if a or w}

    def cell_deltas(self) -> dict[Cell, int]:
        """Each quota cell's net assigned move, zero moves left out."""
        return {cell: delta for cell, delta in self.cells.items() if delta}

    def _upsert(self, event: Any, values: dict[str, Any]) -> str | None:
        key = (event.programme_code, event.worker_id)
        previous = self.statuses.get(key)
        change = self.rows.setdefault(key, RowChange(insert=previous is None))
        change.values.update(values)
        self.statuses[key] = values["status"]
        return previous

    def _update(self, event: Any, values: dict[str, Any]) -> str | None:
        """An UPDATE of the row: nothing when it does not exist."""
        key = (event.programme_code, event.worker_id)
        previous = self.statuses.get(key)
        if previous is not None:
            self.rows.setdefault(key, RowChange(insert=False)).values.update(values)
            self.statuses[key] = values.get("status", previous)
        return previous

    def _count(self, programme_code: str, *, assigned: int = 0, waitlisted: int = 0) -> None:
        moves = self.programmes.setdefault(programme_code, [0, 0])
        moves[0] += assigned
        moves[1] += waitlisted

    def _cell(self, programme_code: str, regency_code: str, sector: str, delta: int) -> None:
        cell = (programme_code, regency_code, sector)
        self.cells[cell] = self.cells.get(cell, 0) + delta
