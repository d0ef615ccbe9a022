"""Events of allocation: programmes, quota decisions and decrees."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from libs.events import topics
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.common import Funder, RegencyCode, Rupiah, Sector, WorkerIdentity
from libs.pii import ENCRYPTED_FIELDS

DecreeKind = Literal["SK_GUBERNUR", "SK_BUPATI", "PERKADA"]
"""SK Gubernur (province), SK Bupati/Wali Kota (regency), or a Peraturan Kepala Daerah (Perkada)."""


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
    # Programme rules (docs/allocation.md, "Programme file"); the defaults are the rules of
    # definitions written before 2026-12.
    decree_kind: DecreeKind | None = Field(
        default=None,
        description="Who signs the decree; None (before 2026-12): SK_GUBERNUR for "
        "a provincial programme, SK_BUPATI for a regency's.",
    )
    admit_dtks_only: bool = Field(
        default=True, description="DTKS (DTSEN) membership alone admits a worker outside the P3KE deciles."
    )
    nik_regency_must_match: bool = Field(
        default=False, description="Refuse a NIK issued in another regency (else: accepted with a note)."
    )
    village_cap: int | None = Field(
        default=None, ge=1, description="Most seated workers per desa/kelurahan; None: no cap."
    )

    def partition_key(self) -> str | None:
        return self.programme_code


class QuotaAssigned(DomainEvent):
    """A validated worker got a seat in a programme's quota."""

    event_type = "QuotaAssigned"
    topic = topics.ALLOCATION
    personal_fields = ENCRYPTED_FIELDS

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
    # Nomination order (microseconds since 1970-01-01 UTC of the funder's nomination): with
    # `decile` it ranks the seat before the decree and orders "first proposer pays" across
    # programmes. None in events written before 2026-11.
    nomination_seq: int | None = None
    # The worker's desa (official code 12.RR.KK.NNNN), counted against the programme's village_cap.
    desa_code: str | None = None


class QuotaWaitlisted(DomainEvent):
    """No seat (or no budget) was free: the worker waits at a position."""

    event_type = "QuotaWaitlisted"
    topic = topics.ALLOCATION
    personal_fields = ENCRYPTED_FIELDS

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
    # village_full: the worker's desa already has the programme's village_cap seated.
    reason: Literal["no_seat", "no_budget", "village_full"]
    desa_code: str | None = None


class QuotaReleased(DomainEvent):
    """A worker left the quota: a seat (or a waitlist place) was given back.

    Reasons: withdrawn or died (registry), enrollment_failed (BPJS refused), membership_ended
    (BPJS ended the membership: enrollment's CoverageEnded), or held_by_other_programme: an
    overlapping programme (`held_by`) keeps them — it seated them while they waited here, or its
    funder proposed them first — so this programme lets them go and re-flows its waitlist.
    """

    event_type = "QuotaReleased"
    topic = topics.ALLOCATION

    worker_id: str
    programme_code: str
    regency_code: RegencyCode
    sector: Sector
    reason: Literal["withdrawn", "died", "enrollment_failed", "held_by_other_programme", "membership_ended"]
    held_by: str | None = None


class QuotaUnseated(DomainEvent):
    """Before the first decree, a provisionally seated worker gave way to a worker of a lower
    (poorer) P3KE desil in the same regency × sector (`by_worker_id`) and waits at `position`.

    Provisional seats exist only in programmes that require a decree (nobody on them is
    registered at BPJS yet); from the first decree on, seats are final.
    """

    event_type = "QuotaUnseated"
    topic = topics.ALLOCATION

    worker_id: str
    nomination_id: str
    programme_code: str
    regency_code: RegencyCode
    sector: Sector
    decile: int = Field(ge=1, le=10, description="Rank desil (10: in DTKS without a P3KE desil).")
    nomination_seq: int
    decree_round: int = Field(ge=0)
    position: int = Field(ge=1)
    reason: Literal["no_seat", "no_budget", "village_full"]
    by_worker_id: str
    by_decile: int = Field(ge=1, le=10)
    desa_code: str | None = None


class QuotaDeclined(DomainEvent):
    """A validated worker is not taken into this programme: `held_by`, an overlapping programme
    whose funder proposed them first (or whose decree already fixed them), keeps them."""

    event_type = "QuotaDeclined"
    topic = topics.ALLOCATION

    worker_id: str
    nomination_id: str
    programme_code: str
    regency_code: RegencyCode
    sector: Sector
    reason: Literal["held_by_other_programme"]
    held_by: str


class QuotaChanged(DomainEvent):
    """The seats of one regency × sector were set: raised, cut, or one side of a move.

    A cut never unassigns anyone: `over_assigned` workers keep seats beyond the new number and the
    cell assigns nobody until releases bring it under. A raise re-flows the waitlist (QuotaAssigned
    with `promoted` follow in the same stream).
    """

    event_type = "QuotaChanged"
    topic = topics.ALLOCATION

    programme_code: str
    regency_code: RegencyCode
    sector: Sector
    seats: int = Field(ge=0)
    previous_seats: int = Field(ge=0)
    over_assigned: int = Field(ge=0)
    change: Literal["set", "move_out", "move_in"] = "set"
    note: str = ""

    def partition_key(self) -> str | None:
        return self.programme_code


class BudgetChanged(DomainEvent):
    """The programme's budget cap was set (e.g. an APBD-P revision).

    A cut never unassigns anyone: `over_committed` workers are beyond the new cap and nobody is
    assigned until releases bring the programme under it. A raise re-flows the waitlist.
    """

    event_type = "BudgetChanged"
    topic = topics.ALLOCATION

    programme_code: str
    budget_cap: Rupiah
    previous_cap: Rupiah
    over_committed: int = Field(ge=0)
    note: str = ""

    def partition_key(self) -> str | None:
        return self.programme_code


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
    # The decree this one revises (SK perubahan); None for the first.
    supersedes: str | None = None
    # The kind of decree, as the programme file says; None in events written before 2026-12.
    kind: DecreeKind | None = None

    def partition_key(self) -> str | None:
        return self.programme_code


class AssignmentDecreed(DomainEvent):
    """One worker's assignment is fixed by a decree: enrollment may register them at BPJS."""

    event_type = "AssignmentDecreed"
    topic = topics.ALLOCATION
    personal_fields = ENCRYPTED_FIELDS

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
    decree_version: int | None = Field(default=None, ge=1)
