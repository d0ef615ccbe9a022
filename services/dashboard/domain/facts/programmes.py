"""Facts about a programme as a whole: its definition, seats, budget cap, decrees, premiums, claims."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from services.dashboard.domain.facts.base import Code, Fact


class QuotaCellFact(Fact):
    regency_code: str
    sector: str
    seats: int = Field(ge=0)


class Programme(Fact):
    programme_code: str
    name: str
    year: int
    funder: str
    jurisdiction: str
    premium_jkk: int
    premium_jkm: int
    months: int
    coverage_start: date
    coverage_end: date
    budget_cap: int
    requires_decree: bool
    quotas: list[QuotaCellFact]
    village_cap: int | None = None

    @property
    def cost_per_worker(self) -> int:
        """What one seat costs the programme: (JKK + JKM) × months, in whole rupiah."""
        return (self.premium_jkk + self.premium_jkm) * self.months


class SeatsSet(Fact):
    """The seats of one regency × sector were set (raised, cut, moved)."""

    programme_code: str
    regency_code: str
    sector: str
    seats: int = Field(ge=0)


class CapSet(Fact):
    """The programme's budget cap was set (e.g. an APBD-P revision)."""

    programme_code: str
    budget_cap: int


class Decree(Fact):
    programme_code: str
    decree_number: str
    decree_date: date
    signer: str
    version: int
    worker_count: int
    total_cost: int
    added: int = 0
    removed: int = 0


class Premium(Fact):
    programme_code: str
    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    regency_code: str
    funder: str = ""
    workers: int
    jkk_total: int
    jkm_total: int
    total: int
    payment_ref: str


class Billed(Fact):
    """One line of a month's bill (the worker ids it lists are not kept: counts only)."""

    bill_id: str
    programme_code: str
    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    funder: str
    regency_code: str
    workers: int
    total: int


class Claim(Fact):
    claim_id: str
    programme_code: str | None
    regency_code: str | None
    programme: Literal["JKK", "JKM"]
    benefit_kind: str
    incident_date: date
    paid_date: date
    amount: int


class ClaimFlags(Fact):
    claim_id: str
    reasons: list[Code] = Field(min_length=1)
