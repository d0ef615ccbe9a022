"""The claim stream as a decider: one stream per BPJS claim id (`claim-{claim_id}`).

ClaimRecorded once, then ClaimFlagged whenever a delivery needs a look. BPJS has already paid,
so nothing is refused; what is doubtful is flagged. The state is every version of the claim BPJS
reported (ClaimRecorded holds the first; a flag on a changed claim carries the new version in its
details), so a re-delivery of a version already known records nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal, Protocol

from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import ClaimPaid
from libs.events.contracts.claims import ClaimFlagged, ClaimRecorded
from libs.eventstore.decider import Decider, Recorded
from services.claims.domain.benefits import BenefitKind, BenefitRules, Programme
from services.claims.domain.checks import ClaimContext, ClaimDecision, PaidClaim, review_claim
from services.claims.domain.coverage import ProgrammeCoverage, judge_incident, membership_start
from services.claims.domain.reasons import CHANGED, incident_coverage, reason_of


def claim_stream(claim_id: str) -> str:
    """One stream per BPJS claim id."""
    return f"claim-{claim_id}"


def paid_claim_of(event: ClaimPaid, worker_id: str) -> PaidClaim:
    """The domain view of a ClaimPaid; the NIK is replaced by its worker id (the same person
    test without the number itself: the claims service never keeps a NIK).

    A benefit kind outside BenefitKind raises ValueError: the event is parked in the dead-letter
    topic with that error rather than recorded under a kind nobody can check.
    """
    try:
        kind = BenefitKind(event.benefit_kind.strip().upper())
    except ValueError:
        raise ValueError(
            f"claim {event.claim_id}: unknown benefit kind {event.benefit_kind!r} "
            f"(known: {', '.join(BenefitKind)})"
        ) from None
    return PaidClaim(
        claim_id=event.claim_id,
        kpj=event.kpj,
        nik=worker_id,
        programme=Programme(event.programme),
        kind=kind,
        incident_date=event.incident_date,
        paid_date=event.paid_date,
        amount=event.amount,
    )


class RecordedClaim(Protocol):
    """A claim as the ledger keeps it: a ClaimRecorded event, or its row in the claims table."""

    @property
    def claim_id(self) -> str: ...
    @property
    def worker_id(self) -> str | None: ...
    @property
    def kpj(self) -> str: ...
    @property
    def programme(self) -> str: ...
    @property
    def benefit_kind(self) -> str: ...
    @property
    def incident_date(self) -> date: ...
    @property
    def paid_date(self) -> date: ...
    @property
    def amount(self) -> int: ...


def paid_claim_from(recorded: RecordedClaim) -> PaidClaim:
    """The domain view of a claim the ledger recorded (its worker id in place of the NIK)."""
    return PaidClaim(
        claim_id=recorded.claim_id,
        kpj=recorded.kpj,
        nik=recorded.worker_id or "",
        programme=Programme(recorded.programme),
        kind=BenefitKind(recorded.benefit_kind),
        incident_date=recorded.incident_date,
        paid_date=recorded.paid_date,
        amount=recorded.amount,
    )


@dataclass(frozen=True)
class ClaimState:
    """Every version of one claim id the stream knows, in the order they arrived."""

    versions: tuple[PaidClaim, ...] = ()


@dataclass(frozen=True)
class ReviewClaim:
    """Check a claim BPJS reports as paid, knowing the worker's other claims (other claim ids,
    same KPJ or worker) and every programme that paid for them."""

    claim: PaidClaim
    programme: Literal["JKK", "JKM"]
    others: tuple[PaidClaim, ...] = ()
    programmes: tuple[ProgrammeCoverage, ...] = ()


def evolve(state: ClaimState, recorded: Recorded) -> ClaimState:
    """The versions after one recorded claims event."""
    event = recorded.event
    if isinstance(event, ClaimRecorded):
        return ClaimState((*state.versions, paid_claim_from(event)))
    if isinstance(event, ClaimFlagged):
        changed = [
            PaidClaim(
                claim_id=event.claim_id,
                kpj=event.kpj,
                nik=event.worker_id or "",
                programme=Programme(d["programme"]),
                kind=BenefitKind(d["benefit_kind"]),
                incident_date=date.fromisoformat(d["incident_date"]),
                paid_date=date.fromisoformat(d["paid_date"]),
                amount=int(d["amount"]),
            )
            for reason in event.reasons
            if reason.code in CHANGED and "amount" in (d := reason.details)
        ]
        return ClaimState((*state.versions, *changed)) if changed else state
    return state


def decide(command: ReviewClaim, state: ClaimState, rules: BenefitRules) -> list[DomainEvent]:
    """ClaimRecorded for a new claim id, ClaimFlagged when a check needs a look; nothing for a
    version of the claim delivered before."""
    claim = command.claim
    programmes = list(command.programmes)
    finding = judge_incident(programmes, claim.kpj, claim.incident_date)
    context = ClaimContext(
        incident_coverage(finding, claim.incident_date),
        [*command.others, *state.versions],
        membership_start=membership_start(programmes),
    )
    review = review_claim(claim, context, rules)
    if review.decision is ClaimDecision.DUPLICATE_DELIVERY:
        return []
    new: list[DomainEvent] = []
    if not state.versions:
        period = finding.programme
        new.append(
            ClaimRecorded(
                claim_id=claim.claim_id,
                worker_id=claim.nik,
                kpj=claim.kpj,
                programme_code=period.programme_code if period else None,
                regency_code=period.regency_code if period else None,
                programme=command.programme,
                benefit_kind=claim.kind.value,
                incident_date=claim.incident_date,
                paid_date=claim.paid_date,
                amount=claim.amount,
            )
        )
    if review.flags:
        previous = state.versions[-1] if state.versions else None
        new.append(
            ClaimFlagged(
                claim_id=claim.claim_id,
                worker_id=claim.nik,
                kpj=claim.kpj,
                reasons=[reason_of(f, claim, finding, previous) for f in review.flags],
            )
        )
    return new


def claim_decider(rules: BenefitRules) -> Decider[ReviewClaim, ClaimState]:
    """The claim stream under the benefit rules in force."""
    return Decider(
        kind="claim",
        initial=ClaimState(),
        evolve=evolve,
        decide=lambda command, state: decide(command, state, rules),
        stream_of=lambda command: claim_stream(command.claim.claim_id),
    )
