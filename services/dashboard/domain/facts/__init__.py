"""What the dashboard keeps of each event it consumes: the counting facts, never personal data.

Each consumed contract is read through a model below that names only the fields the dashboard
counts with. Everything else — NIK, name, birth date, sex, address, phone, KPJ, rejection texts
(they may quote a KPJ) — is dropped before anything is stored, the inbox included: the dashboard
holds no personal data (UU 27/2022), and a replay of its inbox rebuilds the same read models from
the same facts.
"""

from __future__ import annotations

from typing import Any

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
from services.dashboard.domain.facts.base import Code as Code
from services.dashboard.domain.facts.base import Fact as Fact
from services.dashboard.domain.facts.programmes import Billed as Billed
from services.dashboard.domain.facts.programmes import CapSet as CapSet
from services.dashboard.domain.facts.programmes import Claim as Claim
from services.dashboard.domain.facts.programmes import ClaimFlags as ClaimFlags
from services.dashboard.domain.facts.programmes import Decree as Decree
from services.dashboard.domain.facts.programmes import Premium as Premium
from services.dashboard.domain.facts.programmes import Programme as Programme
from services.dashboard.domain.facts.programmes import QuotaCellFact as QuotaCellFact
from services.dashboard.domain.facts.programmes import SeatsSet as SeatsSet
from services.dashboard.domain.facts.workers import DERIVED_FIELDS as DERIVED_FIELDS
from services.dashboard.domain.facts.workers import Assigned as Assigned
from services.dashboard.domain.facts.workers import Corrected as Corrected
from services.dashboard.domain.facts.workers import Declined as Declined
from services.dashboard.domain.facts.workers import Decreed as Decreed
from services.dashboard.domain.facts.workers import Enrolled as Enrolled
from services.dashboard.domain.facts.workers import EnrolmentFailed as EnrolmentFailed
from services.dashboard.domain.facts.workers import Lapsed as Lapsed
from services.dashboard.domain.facts.workers import MembershipOver as MembershipOver
from services.dashboard.domain.facts.workers import Nominated as Nominated
from services.dashboard.domain.facts.workers import Placed as Placed
from services.dashboard.domain.facts.workers import Rejected as Rejected
from services.dashboard.domain.facts.workers import Released as Released
from services.dashboard.domain.facts.workers import Restored as Restored
from services.dashboard.domain.facts.workers import SeatPlaced as SeatPlaced
from services.dashboard.domain.facts.workers import Unseated as Unseated
from services.dashboard.domain.facts.workers import Validated as Validated
from services.dashboard.domain.facts.workers import Waitlisted as Waitlisted
from services.dashboard.domain.facts.workers import Withdrawn as Withdrawn
from services.dashboard.domain.facts.workers import kecamatan_code as kecamatan_code

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
