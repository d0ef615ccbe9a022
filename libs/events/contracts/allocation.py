"""Events of allocation: programmes, quota decisions and decrees."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from libs.events import topics
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.common import Funder, RegencyCode, Rupiah, Sector, WorkerIdentity


class QuotaCell(BaseModel):
    """Seats for one regency and sector."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    regency_code: RegencyCode
    sector: Sector
    seats: int = Field(ge=0)


class ProgrammeDefined(DomainEvent):
    """A programme was defined or redefined (the latest definition wins)."""

    event_type = "ProgrammeDefined"
    topic = topics.ALLOCATION

    programme_code: str
    name: str
    year: int
    funder: Funder
    jurisdiction: str
    premium_jkk: Rupiah
    premium_jkm: Rupiah
    months: int = Field(ge=1, le=12)
    coverage_start: date
    coverage_end: date
    budget_cap: Rupiah
    allowed_deciles: list[int]
    age_min: int
    age_max: int
    occupations: list[str]
    requires_decree: bool
    quotas: list[QuotaCell]

    def partition_key(self) -> str | None:
        return self.programme_code


class QuotaAssigned(DomainEvent):
    """A validated worker got a seat in a programme's quota."""

    event_type = "QuotaAssigned"
    topic = topics.ALLOCATION

    worker_id: str
    nomination_id: str
    programme_code: str
    funder: Funder
    regency_code: RegencyCode
    sector: Sector
    decile: int | None
    identity: WorkerIdentity
    coverage_start: date
    coverage_end: date
    premium_per_month: Rupiah
    requires_decree: bool
    promoted: bool = False


class QuotaWaitlisted(DomainEvent):
    """No seat (or no budget) was free: the worker waits at a position."""

    event_type = "QuotaWaitlisted"
    topic = topics.ALLOCATION

    worker_id: str
    nomination_id: str
    programme_code: str
    regency_code: RegencyCode
    sector: Sector
    decile: int = Field(ge=1, le=10)
    identity: WorkerIdentity
    nomination_seq: int
    decree_round: int = Field(ge=0)
    position: int = Field(ge=1)
    reason: Literal["no_seat", "no_budget"]


class QuotaReleased(DomainEvent):
    """A seat was given back (withdrawn, died, enrollment failed)."""

    event_type = "QuotaReleased"
    topic = topics.ALLOCATION

    worker_id: str
    programme_code: str
    regency_code: RegencyCode
    sector: Sector
    reason: Literal["withdrawn", "died", "enrollment_failed", "held_by_other_programme"]


class DecreeIssued(DomainEvent):
    """A decree (SK) froze the list of beneficiaries; the list itself is hashed, not carried."""

    event_type = "DecreeIssued"
    topic = topics.ALLOCATION

    programme_code: str
    decree_number: str
    decree_date: date
    signer: str
    version: int = Field(ge=1)
    list_sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    worker_count: int = Field(ge=0)
    total_cost: Rupiah
    added: int = 0
    removed: int = 0

    def partition_key(self) -> str | None:
        return self.programme_code


class AssignmentDecreed(DomainEvent):
    """One worker's assignment is fixed by a decree: enrollment may register them at BPJS."""

    event_type = "AssignmentDecreed"
    topic = topics.ALLOCATION

    worker_id: str
    programme_code: str
    decree_number: str
    funder: Funder
    regency_code: RegencyCode
    sector: Sector
    identity: WorkerIdentity
    coverage_start: date
    coverage_end: date
    premium_per_month: Rupiah
