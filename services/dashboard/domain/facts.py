"""What the dashboard keeps of each event it consumes: the counting facts, never personal data.

Each consumed contract is read through a model below that names only the fields the dashboard
counts with. Everything else — NIK, name, birth date, sex, address, phone, KPJ, rejection texts
(they may quote a KPJ) — is dropped before anything is stored, the inbox included: the dashboard
holds no personal data (UU 27/2022), and a replay of its inbox rebuilds the same read models from
the same facts.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from libs.events.contracts.allocation import (
    AssignmentDecreed,
    BudgetChanged,
    DecreeIssued,
    ProgrammeDefined,
    QuotaAssigned,
    QuotaChanged,
    QuotaDeclined,
    QuotaReleased,
    QuotaUnseated,
    QuotaWaitlisted,
)
from libs.events.contracts.claims import ClaimFlagged, ClaimRecorded
from libs.events.contracts.enrollment import (
    CoverageLapsed,
    CoverageRestored,
    EnrolledAtBPJS,
    EnrollmentFailed,
    MembershipEnded,
    PremiumBilled,
    PremiumPaid,
)
from libs.events.contracts.registry import (
    NominationCorrected,
    NominationWithdrawn,
    WorkerNominated,
    WorkerRejected,
    WorkerValidated,
)
from libs.regions import kecamatan_of_nik


class Fact(BaseModel):
    """A consumed event reduced to what the dashboard counts with (other fields are ignored)."""

    model_config = ConfigDict(frozen=True, extra="ignore")


class Code(Fact):
    """A reason, by its stable code only (messages may quote personal data)."""

    code: str


_NIK = re.compile(r"\d{16}")


def kecamatan_code(payload: dict[str, Any], from_nik: bool = True) -> str | None:
    """The kecamatan ("12.RR.KK") an event places its worker in: the first three parts of the
    desa code when it carries one, else (`from_nik`) NIK digits 1–6 of a 16-digit NIK; None for
    a forgotten or sealed NIK and for a code no kecamatan has. Only the code is kept, never the NIK."""
    desa = payload.get("desa_code")
    if isinstance(desa, str) and desa.count(".") == 3:
        return desa.rsplit(".", 1)[0]
    if not from_nik:
        return None
    identity = payload.get("identity")
    nik = identity.get("nik") if isinstance(identity, dict) else payload.get("nik")
    if isinstance(nik, str) and _NIK.fullmatch(nik):
        found = kecamatan_of_nik(nik)
        return found.code if found else None
    return None


# Fields a fact derives on extraction rather than reads from its contract.
DERIVED_FIELDS = frozenset({"kecamatan_code"})


class Placed(Fact):
    """A fact that places its worker in a kecamatan (`kecamatan_code`, derived on extraction)."""

    # Registry facts fall back on the NIK; allocation's take the desa only, so that a placement
    # without one counts in its nomination's kecamatan (the views join them).
    kecamatan_from_nik: ClassVar[bool] = True

    kecamatan_code: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _derive_kecamatan(cls, data: Any) -> Any:
        # A minimised payload (the inbox's copy) carries the code already and no NIK.
        if isinstance(data, dict) and data.get("kecamatan_code") is None:
            return {**data, "kecamatan_code": kecamatan_code(data, cls.kecamatan_from_nik)}
        return data


class SeatPlaced(Placed):
    kecamatan_from_nik: ClassVar[bool] = False


class Nominated(Placed):
    worker_id: str
    nomination_id: str
    programme_code: str
    regency_code: str
    sector: str


class Validated(Placed):
    worker_id: str
    nomination_id: str
    programme_code: str
    regency_code: str
    sector: str


class Rejected(Fact):
    worker_id: str
    nomination_id: str
    programme_code: str
    regency_code: str
    reasons: list[Code] = Field(min_length=1)


class Corrected(Placed):
    """A rejected nomination corrected (maybe to another NIK: another worker id); a decision follows."""

    worker_id: str
    nomination_id: str
    programme_code: str
    regency_code: str
    sector: str


class Withdrawn(Fact):
    worker_id: str
    nomination_id: str
    programme_code: str
    regency_code: str
    reason: str


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


class Assigned(SeatPlaced):
    worker_id: str
    programme_code: str
    regency_code: str
    sector: str
    promoted: bool = False
    desa_code: str | None = None  # an official place code, counted against the village cap


class Waitlisted(SeatPlaced):
    worker_id: str
    programme_code: str
    regency_code: str
    sector: str
    position: int
    reason: str


class Unseated(SeatPlaced):
    """A provisional seat given to a poorer worker before the first decree: back to waiting."""

    worker_id: str
    programme_code: str
    regency_code: str
    sector: str
    position: int
    reason: str = "no_seat"


class Declined(Fact):
    """A validated worker an overlapping programme holds: never seated here."""

    worker_id: str
    programme_code: str
    regency_code: str
    sector: str


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


class Released(Fact):
    worker_id: str
    programme_code: str
    regency_code: str
    sector: str
    reason: str


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


class Decreed(Fact):
    worker_id: str
    programme_code: str
    decree_number: str
    regency_code: str
    sector: str


class Enrolled(Fact):
    worker_id: str
    programme_code: str
    regency_code: str


class EnrolmentFailed(Fact):
    worker_id: str
    programme_code: str
    regency_code: str
    reason_code: str


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


class MembershipOver(Fact):
    """BPJS ended the BPU membership after more unpaid months than it accepts in arrears."""

    worker_id: str
    programme_code: str
    regency_code: str
    ended_on: date


class Lapsed(Fact):
    worker_id: str
    programme_code: str
    lapsed_on: date


class Restored(Fact):
    """The lapsed month was paid after all: coverage is whole again."""

    worker_id: str
    programme_code: str


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


# Facts about one nomination, and about one worker's place in a programme.
NominationFact = Nominated | Corrected | Validated | Rejected | Withdrawn
PlacementFact = (
    Assigned
    | Waitlisted
    | Unseated
    | Declined
    | Released
    | Decreed
    | Enrolled
    | EnrolmentFailed
    | Lapsed
    | Restored
    | MembershipOver
)

# The contracts the dashboard consumes, each read through its fact. A type not listed here is
# not consumed (the inbox consumer skips it before decoding): new event types are ignored.
FACTS: dict[str, type[Fact]] = {
    WorkerNominated.event_type: Nominated,
    WorkerValidated.event_type: Validated,
    WorkerRejected.event_type: Rejected,
    NominationCorrected.event_type: Corrected,
    NominationWithdrawn.event_type: Withdrawn,
    ProgrammeDefined.event_type: Programme,
    QuotaChanged.event_type: SeatsSet,
    BudgetChanged.event_type: CapSet,
    QuotaAssigned.event_type: Assigned,
    QuotaWaitlisted.event_type: Waitlisted,
    QuotaUnseated.event_type: Unseated,
    QuotaDeclined.event_type: Declined,
    QuotaReleased.event_type: Released,
    DecreeIssued.event_type: Decree,
    AssignmentDecreed.event_type: Decreed,
    EnrolledAtBPJS.event_type: Enrolled,
    EnrollmentFailed.event_type: EnrolmentFailed,
    PremiumPaid.event_type: Premium,
    PremiumBilled.event_type: Billed,
    MembershipEnded.event_type: MembershipOver,
    CoverageLapsed.event_type: Lapsed,
    CoverageRestored.event_type: Restored,
    ClaimRecorded.event_type: Claim,
    ClaimFlagged.event_type: ClaimFlags,
}


def fact_of(event_type: str, payload: dict[str, Any]) -> Fact:
    """The fact of one consumed event (payload at its contract's current version)."""
    return FACTS[event_type].model_validate(payload)


def minimised(fact: Fact) -> dict[str, Any]:
    """The payload the dashboard stores for `fact`: exactly its fields, as JSON."""
    return fact.model_dump(mode="json")
