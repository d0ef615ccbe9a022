"""The monitoring figures: counters per regency × sector, summed up, and the budget arithmetic.

Definitions (docs/dashboard.md):
- nominated / validated / rejected / withdrawn count nominations (a worker rejected and nominated
  again counts twice as nominated);
- assigned counts workers holding a quota seat now; decreed and enrolled count those of them named
  in a decree (SK) and registered at BPJS, so the funnel never widens;
- waitlisted counts workers waiting now; released, failed and lapsed count seats given back,
  registrations BPJS refused and coverage that ended unpaid;
- committed budget = assigned × cost per worker; allotment = seats × cost per worker; paid = the
  premiums BPJS confirmed (PremiumPaid totals).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields

COUNTERS = (
    "nominated",
    "validated",
    "rejected",
    "withdrawn",
    "assigned",
    "waitlisted",
    "released",
    "decreed",
    "enrolled",
    "failed",
    "lapsed",
    "seats",
)
FUNNEL = ("nominated", "validated", "assigned", "decreed", "enrolled")


@dataclass
class Counters:
    """How many nominations and workers are at each stage, for one slice of a programme."""

    nominated: int = 0
    validated: int = 0
    rejected: int = 0
    withdrawn: int = 0
    assigned: int = 0
    waitlisted: int = 0
    released: int = 0
    decreed: int = 0
    enrolled: int = 0
    failed: int = 0
    lapsed: int = 0
    seats: int = 0

    def add(self, other: Counters) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


Cell = tuple[str, str]  # (regency code, sector)


def total(counters: Iterable[Counters]) -> Counters:
    """The sum of several slices."""
    out = Counters()
    for c in counters:
        out.add(c)
    return out


def by_regency(cells: Mapping[Cell, Counters]) -> dict[str, Counters]:
    """Regency × sector cells summed per regency."""
    out: dict[str, Counters] = {}
    for (regency, _), c in cells.items():
        out.setdefault(regency, Counters()).add(c)
    return out


def by_sector(cells: Mapping[Cell, Counters]) -> dict[str, Counters]:
    """Regency × sector cells summed per sector."""
    out: dict[str, Counters] = {}
    for (_, sector), c in cells.items():
        out.setdefault(sector, Counters()).add(c)
    return out


@dataclass(frozen=True)
class Budget:
    """Money of one slice of a programme, in whole rupiah."""

    cap: int  # the programme's cap (province view) or the slice's allotment (regency view)
    cost_per_worker: int
    allotment: int
    committed: int
    paid: int

    @property
    def remaining(self) -> int:
        """What the cap still allows after the committed seats (negative: over-committed)."""
        return self.cap - self.committed

    def as_dict(self) -> dict[str, int]:
        return {
            "cap": self.cap,
            "cost_per_worker": self.cost_per_worker,
            "allotment": self.allotment,
            "committed": self.committed,
            "paid": self.paid,
            "remaining": self.remaining,
        }


def budget(c: Counters, cost_per_worker: int, paid: int, programme_cap: int | None) -> Budget:
    """The budget of a slice: against the programme's cap when given, else against its allotment."""
    allotment = c.seats * cost_per_worker
    return Budget(
        cap=allotment if programme_cap is None else programme_cap,
        cost_per_worker=cost_per_worker,
        allotment=allotment,
        committed=c.assigned * cost_per_worker,
        paid=paid,
    )
