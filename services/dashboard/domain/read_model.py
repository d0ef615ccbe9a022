"""What a batch of consumed facts changes in the dashboard's read models, as rows (no SQL here).

Every write is an upsert on the row's natural key, setting only what the event knows: events
about one worker arrive on several topics, and a row fills in whatever order they come. Over a
batch, the upserts of one key merge in event order (a later event's value wins, columns add up),
so the batch writes each row once and ends where the events one by one would have ended.
Two writes are not upserts: a programme's definition replaces its quota table (`quotas_replaced`:
deleted before the batch's quota rows are written), and a budget cap is set on a programme
defined earlier (`caps`: an update, run before the batch's programme rows).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.dashboard.domain import facts as f

# The natural key of each read-model table, in the tables' column names.
KEYS: dict[str, tuple[str, ...]] = {
    "programmes": ("programme_code",),
    "quotas": ("programme_code", "regency_code", "sector"),
    "nominations": ("nomination_id",),
    "placements": ("programme_code", "worker_id"),
    "bills": ("bill_id",),
    "decrees": ("programme_code", "version"),
    "premiums": ("programme_code", "regency_code", "month", "payment_ref"),
    "claims": ("claim_id",),
    "claim_flags": ("claim_id", "code"),
}
# Tables written in this order (a quota row needs no programme row, but reading order helps).
TABLES = tuple(KEYS)

Row = dict[str, Any]


@dataclass
class Changes:
    """The rows a batch writes: per table, one merged row (key columns included) per key."""

    rows: dict[str, dict[tuple[Any, ...], Row]] = field(default_factory=lambda: {t: {} for t in TABLES})
    # Programmes whose quota table a definition in the batch replaced (deleted first).
    quotas_replaced: list[str] = field(default_factory=list)
    # Budget caps set on programmes the batch does not define (an update of an existing row).
    caps: dict[str, int] = field(default_factory=dict)

    def upsert(self, table: str, key: Row, values: Row) -> None:
        """Insert the row, or set `values` on the row with this `key` (after earlier changes)."""
        ident = tuple(key[c] for c in KEYS[table])
        self.rows[table].setdefault(ident, dict(key)).update(values)

    def replace_quotas(self, programme_code: str) -> None:
        """Forget the programme's quota rows: those of the batch so far, and (in SQL) the table's."""
        self.rows["quotas"] = {k: r for k, r in self.rows["quotas"].items() if k[0] != programme_code}
        if programme_code not in self.quotas_replaced:
            self.quotas_replaced.append(programme_code)

    def set_cap(self, programme_code: str, cap: int) -> None:
        """Set a programme's budget cap (nothing happens to a programme never defined)."""
        defined = self.rows["programmes"].get((programme_code,))
        if defined is not None:
            defined["budget_cap"] = cap
        else:
            self.caps[programme_code] = cap

    def written(self, table: str) -> list[Row]:
        """The rows of `table` the batch writes, in first-seen order."""
        return list(self.rows[table].values())

    @property
    def empty(self) -> bool:
        """True when the batch changes nothing."""
        return not (self.quotas_replaced or self.caps or any(self.rows.values()))


def changes_of(facts: Iterable[tuple[f.Fact, datetime]]) -> Changes:
    """The read-model changes of consumed facts, each with when its event occurred, in order."""
    changes = Changes()
    for fact, at in facts:
        apply(changes, fact, at)
    return changes


def apply(changes: Changes, fact: f.Fact, at: datetime) -> None:
    """Add what `fact` (of an event that occurred `at`) changes to `changes`."""
    if isinstance(fact, f.Programme):
        _programme(changes, fact, at)
    elif isinstance(fact, f.SeatsSet):
        key = {
            "programme_code": fact.programme_code,
            "regency_code": fact.regency_code,
            "sector": fact.sector,
        }
        changes.upsert("quotas", key, {"seats": fact.seats})
    elif isinstance(fact, f.CapSet):
        changes.set_cap(fact.programme_code, fact.budget_cap)
    elif isinstance(fact, f.Nominated | f.Corrected | f.Validated | f.Rejected | f.Withdrawn):
        _nomination(changes, fact, at)
    elif isinstance(fact, f.Assigned | f.Waitlisted | f.Unseated | f.Declined | f.Released | f.Decreed):
        _placement(changes, fact, at)
    elif isinstance(fact, f.Enrolled):
        _placed(changes, fact, regency_code=fact.regency_code, enrolment="enrolled", updated_at=at)
    elif isinstance(fact, f.EnrolmentFailed):
        _placed(
            changes,
            fact,
            regency_code=fact.regency_code,
            enrolment="failed",
            failure_code=fact.reason_code,
            updated_at=at,
        )
    elif isinstance(fact, f.Lapsed):
        _placed(changes, fact, lapsed_on=fact.lapsed_on, ever_lapsed=True, updated_at=at)
    elif isinstance(fact, f.Restored):
        _placed(changes, fact, lapsed_on=None, updated_at=at)
    elif isinstance(fact, f.MembershipOver):
        _placed(
            changes, fact, regency_code=fact.regency_code, membership_ended_on=fact.ended_on, updated_at=at
        )
    else:
        _money(changes, fact)


def _money(changes: Changes, fact: f.Fact) -> None:
    """Bills, decrees, premiums and claims: rows of their own, one per document."""
    if isinstance(fact, f.Billed):
        line = {k: getattr(fact, k) for k in ("programme_code", "regency_code", "month", "funder")}
        changes.upsert(
            "bills", {"bill_id": fact.bill_id}, {**line, "workers": fact.workers, "total": fact.total}
        )
    elif isinstance(fact, f.Decree):
        key = {"programme_code": fact.programme_code, "version": fact.version}
        names = ("decree_number", "decree_date", "signer", "worker_count", "total_cost", "added", "removed")
        changes.upsert("decrees", key, {k: getattr(fact, k) for k in names})
    elif isinstance(fact, f.Premium):
        key = {k: getattr(fact, k) for k in KEYS["premiums"]}
        paid = {k: getattr(fact, k) for k in ("funder", "workers", "jkk_total", "jkm_total", "total")}
        changes.upsert("premiums", key, paid)
    elif isinstance(fact, f.Claim):
        # ClaimRecorded comes once per claim id; a later version of a claim arrives as a flag.
        changes.upsert(
            "claims",
            {"claim_id": fact.claim_id},
            {
                "programme_code": fact.programme_code,
                "regency_code": fact.regency_code,
                "claim_type": fact.programme,
                "benefit_kind": fact.benefit_kind,
                "incident_date": fact.incident_date,
                "paid_date": fact.paid_date,
                "amount": fact.amount,
            },
        )
    elif isinstance(fact, f.ClaimFlags):
        for reason in fact.reasons:
            changes.upsert("claim_flags", {"claim_id": fact.claim_id, "code": reason.code}, {})


def _programme(changes: Changes, fact: f.Programme, at: datetime) -> None:
    names = ("name", "year", "funder", "jurisdiction", "premium_jkk", "premium_jkm", "months")
    row: Row = {k: getattr(fact, k) for k in names}
    row |= {
        "cost_per_worker": fact.cost_per_worker,
        "budget_cap": fact.budget_cap,
        "requires_decree": fact.requires_decree,
        "coverage_start": fact.coverage_start,
        "coverage_end": fact.coverage_end,
        "defined_at": at,
        "village_cap": fact.village_cap,
    }
    changes.upsert("programmes", {"programme_code": fact.programme_code}, row)
    # The latest definition wins: its quota table replaces the previous one.
    changes.replace_quotas(fact.programme_code)
    seats: dict[tuple[str, str], int] = {}
    for cell in fact.quotas:
        seats[(cell.regency_code, cell.sector)] = seats.get((cell.regency_code, cell.sector), 0) + cell.seats
    for (regency, sector), n in seats.items():
        key = {"programme_code": fact.programme_code, "regency_code": regency, "sector": sector}
        changes.upsert("quotas", key, {"seats": n})


def _nomination(changes: Changes, fact: f.NominationFact, at: datetime) -> None:
    values: Row = {
        "programme_code": fact.programme_code,
        "worker_id": fact.worker_id,
        "regency_code": fact.regency_code,
        "updated_at": at,
    }
    if isinstance(fact, f.Nominated | f.Corrected | f.Validated):
        values["sector"] = fact.sector
        if fact.kecamatan_code is not None:
            values["kecamatan_code"] = fact.kecamatan_code
    if isinstance(fact, f.Validated):
        values["outcome"] = "validated"
    elif isinstance(fact, f.Rejected):
        values["outcome"] = "rejected"
        values["reason_codes"] = list(dict.fromkeys(r.code for r in fact.reasons))
    elif isinstance(fact, f.Withdrawn):
        values["withdrawn"] = True
    changes.upsert("nominations", {"nomination_id": fact.nomination_id}, values)


def _placement(
    changes: Changes,
    fact: f.Assigned | f.Waitlisted | f.Unseated | f.Declined | f.Released | f.Decreed,
    at: datetime,
) -> None:
    values: Row = {"regency_code": fact.regency_code, "sector": fact.sector, "updated_at": at}
    if isinstance(fact, f.Assigned | f.Waitlisted | f.Unseated) and fact.kecamatan_code is not None:
        values["kecamatan_code"] = fact.kecamatan_code
    # A worker's allocation events share one partition (keyed by worker id): they arrive in
    # order, so the latest quota decision is the current one.
    if isinstance(fact, f.Assigned):
        values |= {"quota_status": "assigned", "waitlist_position": None, "waitlist_reason": None}
        values["release_reason"] = None
        values |= {"promoted": fact.promoted, "desa_code": fact.desa_code}
    elif isinstance(fact, f.Waitlisted | f.Unseated):
        values |= {"quota_status": "waitlisted", "waitlist_position": fact.position}
        values["waitlist_reason"] = fact.reason
    elif isinstance(fact, f.Released):
        values |= {"quota_status": "released", "waitlist_position": None, "waitlist_reason": None}
        values["release_reason"] = fact.reason
    elif isinstance(fact, f.Declined):
        # Never seated here: an overlapping programme holds the worker.
        values |= {"quota_status": "declined", "waitlist_position": None, "waitlist_reason": None}
        values["release_reason"] = None
    else:
        values["decree_number"] = fact.decree_number
    _placed(changes, fact, **values)


def _placed(changes: Changes, fact: f.PlacementFact, **values: Any) -> None:
    changes.upsert("placements", {"programme_code": fact.programme_code, "worker_id": fact.worker_id}, values)
