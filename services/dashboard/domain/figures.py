"""The monitoring figures: counters per regency × sector, summed up, the identities that hold
between them, and the budget arithmetic.

Definitions (docs/dashboard.md, "Figures"):
- nominations partition into validated, rejected, withdrawn and pending (awaiting a decision): a
  withdrawn nomination counts as withdrawn only, whatever the registry had decided before;
- the workers allocation decided on partition into assigned (holding a seat now), waitlisted,
  declined (an overlapping programme holds them) and released (seat given back, by reason);
- decreed and enrolled count seat holders named in a decree (SK) and registered at BPJS, so the
  funnel never widens;
- the registrations requested at BPJS partition into enrolled (seat holders BPJS registered),
  failed (BPJS refused) and pending (no answer yet);
- lapsed counts workers whose coverage ever lapsed; in_arrears those lapsed now (not restored, the
  membership not ended); membership_ended those BPJS ended after too many unpaid months;
- committed budget = assigned × cost per worker; allotment = seats × cost per worker; paid = the
  premiums BPJS confirmed (PremiumPaid totals); billed = the premiums billed (PremiumBilled).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from services.dashboard.domain import labels as lb

# Counted over nominations (registry events), over workers (allocation and enrollment events).
NOMINATION_COUNTERS = ("nominated", "validated", "rejected", "withdrawn", "pending")
PLACEMENT_COUNTERS = (
    "decided",
    "assigned",
    "waitlisted",
    "declined",
    "released",
    "decreed",
    "requested",
    "enrolled",
    "failed",
    "registering",
    "lapsed",
    "in_arrears",
    "membership_ended",
)
COUNTERS = (*NOMINATION_COUNTERS, *PLACEMENT_COUNTERS, "seats")
FUNNEL = ("nominated", "validated", "assigned", "decreed", "enrolled")


@dataclass
class Counters:
    """How many nominations and workers are at each stage, for one slice of a programme."""

    nominated: int = 0
    validated: int = 0
    rejected: int = 0
    withdrawn: int = 0
    pending: int = 0  # nominations awaiting the registry's decision
    decided: int = 0  # workers allocation decided on (seated, waiting, declined or released)
    assigned: int = 0
    waitlisted: int = 0
    declined: int = 0
    released: int = 0
    decreed: int = 0
    requested: int = 0  # registrations requested at BPJS (enrolled + failed + registering)
    enrolled: int = 0
    failed: int = 0
    registering: int = 0  # requested, BPJS has not answered yet
    lapsed: int = 0
    in_arrears: int = 0
    membership_ended: int = 0
    seats: int = 0

    def add(self, other: Counters) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True)
class Identity:
    """A sum that must hold between figures: the parts of `whole` add up to it."""

    name: str
    label: str
    whole: str
    parts: tuple[str, ...]


# The partitions the figures are built on (docs/dashboard.md, "Identities"). Each holds by
# construction of the queries; `identities` checks them on every summary all the same, and the
# page, the PDF and the XLSX say which hold.
IDENTITIES = (
    Identity(
        "nominations",
        "Diusulkan = lolos verifikasi + ditolak + dibatalkan + menunggu verifikasi",
        "nominated",
        ("validated", "rejected", "withdrawn", "pending"),
    ),
    Identity(
        "allocation",
        "Diputuskan alokasi = mendapat kuota + daftar tunggu + ditolak program lain + kuota dilepas",
        "decided",
        ("assigned", "waitlisted", "declined", "released"),
    ),
    Identity(
        "enrolment",
        "Diminta daftar BPJS = terdaftar + gagal + menunggu jawaban BPJS",
        "requested",
        ("enrolled", "failed", "registering"),
    ),
)


def identities(c: Counters) -> list[dict[str, object]]:
    """Each identity of `c`: its name, the two sides, and whether they are equal."""
    out: list[dict[str, object]] = []
    for i in IDENTITIES:
        left = getattr(c, i.whole)
        right = sum(getattr(c, p) for p in i.parts)
        out.append(
            {
                "name": i.name,
                "label": i.label,
                "whole": i.whole,
                "parts": list(i.parts),
                "left": left,
                "right": right,
                "holds": left == right,
            }
        )
    return out


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


def rates(t: Mapping[str, int], b: Mapping[str, int]) -> list[dict[str, Any]]:
    """The shares the dashboard shows, each with its two numbers and its label (labels.percent)."""
    pairs = (
        ("validated_of_nominated", "Lolos verifikasi dari diusulkan", t["validated"], t["nominated"]),
        ("seats_filled", "Kuota terisi", t["assigned"], t["seats"]),
        ("decreed_of_assigned", "Ditetapkan SK dari pemegang kuota", t["decreed"], t["assigned"]),
        ("enrolled_of_assigned", "Terdaftar BPJS dari pemegang kuota", t["enrolled"], t["assigned"]),
        ("committed_of_cap", "Anggaran terikat dari pagu", b["committed"], b["cap"]),
        ("paid_of_cap", "Iuran dibayar dari pagu", b["paid"], b["cap"]),
        ("paid_of_billed", "Iuran dibayar dari ditagih", t["paid"], t["billed"]),
    )
    return [
        {"name": name, "label": label, "part": part, "whole": whole, "percent": lb.percent(part, whole)}
        for name, label, part, whole in pairs
    ]


def grouped(items: list[dict[str, Any]], keep: int = 8) -> list[dict[str, Any]]:
    """`items` (ranked, largest first) for a chart: the first `keep`, and the rest summed as one
    "lainnya" bar that says how many reasons it holds (nothing is dropped)."""
    if len(items) <= keep + 1:
        return items
    rest = items[keep:]
    others = {
        "code": lb.OTHERS,
        "label": f"Lainnya ({len(rest)} alasan)",
        "count": sum(i["count"] for i in rest),
        "codes": [i["code"] for i in rest],
    }
    return [*items[:keep], others]
