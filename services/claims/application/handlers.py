"""The claims service's reactions: keep enrollment's coverage facts (enrolled, paid months,
lapses, restorations, ends), and check every claim BPJS reports as paid against them, its
benefit rules and the claims recorded before.

One stream per claim id (`claim-{claim_id}`): ClaimRecorded once, then ClaimFlagged whenever a
delivery needs a look. BPJS has already paid, so nothing is refused; what is doubtful is flagged.

Personal data: the claims service never stores a NIK. A claim's NIK is turned into its worker id
(HMAC with the pepper, the id every Lindung service uses); the domain's "same NIK" check
compares those ids, which is the same test without the number itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlalchemy import or_, select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope, decode
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.bpjs import ClaimPaid
from libs.events.contracts.claims import ClaimFlagged, ClaimRecorded
from libs.events.contracts.common import Reason
from libs.identity import worker_id_for
from libs.messaging.consumer import HandlerContext
from libs.privacy.envelopes import seal_inbox_copies
from libs.settings import get_settings
from services.claims.adapters.projections import COVERAGE_EVENTS, project_consumed
from services.claims.adapters.tables import claims
from services.claims.application.coverage import coverage_for
from services.claims.domain.benefits import BenefitKind, BenefitRules, Programme
from services.claims.domain.checks import (
    ClaimContext,
    ClaimDecision,
    IncidentCoverage,
    PaidClaim,
    review_claim,
)
from services.claims.domain.coverage import (
    CoverageFinding,
    CoverageReason,
    judge_incident,
    membership_start,
)
from services.claims.domain.flags import Flag, FlagCode
from services.claims.domain.settings_defaults import BENEFIT_RULES_DEFAULTS

# Flags raised on a new version of a known claim id: their details carry that version's fields,
# so the stream alone tells every version BPJS reported (ClaimRecorded holds only the first).
CHANGED = frozenset({FlagCode.CLAIM_AMOUNT_CHANGED, FlagCode.CLAIM_DETAILS_CHANGED})


def claim_stream(claim_id: str) -> str:
    """One stream per BPJS claim id."""
    return f"claim-{claim_id}"


def paid_claim_of(event: ClaimPaid, worker_id: str) -> PaidClaim:
    """The domain view of a ClaimPaid; the NIK is replaced by its worker id (see module doc).

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


def versions_in(history: Sequence[Envelope]) -> list[PaidClaim]:
    """Every version of one claim id the stream knows, in the order they arrived."""
    versions: list[PaidClaim] = []
    for envelope in history:
        event = decode(envelope)
        if isinstance(event, ClaimRecorded):
            versions.append(
                PaidClaim(
                    claim_id=event.claim_id,
                    kpj=event.kpj,
                    nik=event.worker_id or "",
                    programme=Programme(event.programme),
                    kind=BenefitKind(event.benefit_kind),
                    incident_date=event.incident_date,
                    paid_date=event.paid_date,
                    amount=event.amount,
                )
            )
        elif isinstance(event, ClaimFlagged):
            for reason in event.reasons:
                if reason.code in CHANGED and "amount" in reason.details:
                    d = reason.details
                    versions.append(
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
                    )
    return versions


# Flags that judge coverage: their details name the programme and the facts behind the verdict.
COVERAGE_FLAGS = frozenset(
    {
        FlagCode.INCIDENT_OUTSIDE_COVERAGE,
        FlagCode.BEFORE_ENROLLMENT,
        FlagCode.IN_LAPSE,
        FlagCode.MONTH_NOT_PAID,
        FlagCode.COVERAGE_ENDED,
        FlagCode.MEMBERSHIP_ENDED,
    }
)
# Reasons outside the programme's period keep the plain message ("tidak terlindungi (REASON)").
_WINDOW_REASONS = frozenset(
    {
        CoverageReason.BEFORE_COVERAGE_START,
        CoverageReason.AFTER_COVERAGE_END,
        CoverageReason.BETWEEN_COVERAGE_PERIODS,
    }
)


def incident_coverage(finding: CoverageFinding, incident: date) -> IncidentCoverage | None:
    """The checks' view of a coverage finding (None: nobody we pay for)."""
    p = finding.programme
    if p is None:
        return None
    detail = None if finding.reason in _WINDOW_REASONS else p.explain(incident, finding.reason)
    return IncidentCoverage(finding.covered, finding.reason.value, detail)


def reason_of(found: Flag, claim: PaidClaim, finding: CoverageFinding, previous: PaidClaim | None) -> Reason:
    """The contract's Reason for one domain flag, with the specifics an officer needs."""
    details = {"detail": found.detail}
    if found.code in COVERAGE_FLAGS and finding.programme is not None:
        p = finding.programme
        details["programme_code"] = p.programme_code
        details["coverage_start"] = p.coverage_start.isoformat()
        details["coverage_end"] = p.coverage_end.isoformat()
        details["coverage_reason"] = finding.reason.value
        details["enrolled_on"] = p.first_enrolled_on.isoformat()
        end = p.end_in_force(claim.incident_date)
        if end is not None:
            details["ended_on"] = end.ended_on.isoformat()
            details["end_reason"] = end.reason
    elif found.code in CHANGED:
        details |= {
            "programme": claim.programme.value,
            "benefit_kind": claim.kind.value,
            "incident_date": claim.incident_date.isoformat(),
            "paid_date": claim.paid_date.isoformat(),
            "amount": str(claim.amount),
        }
        if previous is not None:
            details["previous_amount"] = str(previous.amount)
    return Reason(code=found.code.value, message=found.message, details=details)


class ClaimsHandler:
    """Coverage facts on enrollment's coverage events; ClaimRecorded / ClaimFlagged on ClaimPaid."""

    interested = frozenset({*(e.event_type for e in COVERAGE_EVENTS), ClaimPaid.event_type})

    def __init__(self, rules: BenefitRules = BENEFIT_RULES_DEFAULTS, pepper: str | None = None) -> None:
        self.rules = rules
        self._pepper = pepper

    @property
    def pepper(self) -> str:
        return self._pepper if self._pepper is not None else get_settings().nik_pepper

    async def __call__(self, ctx: HandlerContext, event: DomainEvent) -> None:
        if isinstance(event, COVERAGE_EVENTS):
            await project_consumed(ctx.conn, ctx.envelope)
        elif isinstance(event, ClaimPaid):
            await self._paid(ctx, event)

    async def _paid(self, ctx: HandlerContext, event: ClaimPaid) -> None:
        conn = ctx.conn
        worker_id = worker_id_for(event.nik, self.pepper)
        # BPJS sends the NIK in clear: the inbox copy keeps it sealed under the person's key.
        await seal_inbox_copies(conn, ctx.store.vault, ctx.store.tables.inbox, [(ctx.envelope, worker_id)])
        claim = paid_claim_of(event, worker_id)
        # One person may claim under two KPJs, which land on different partitions (the key is
        # the KPJ): serialize claims of one worker so the duplicate-death check sees both.
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"claims-worker:{worker_id}"}
        )
        stream = claim_stream(claim.claim_id)
        history = await ctx.store.load(conn, stream)
        versions = versions_in(history)
        others = await _other_claims(conn, claim)
        programmes = await coverage_for(conn, claim.kpj, worker_id)
        finding = judge_incident(programmes, claim.kpj, claim.incident_date)
        context = ClaimContext(
            incident_coverage(finding, claim.incident_date),
            [*others, *versions],
            membership_start=membership_start(programmes),
        )
        review = review_claim(claim, context, self.rules)
        if review.decision is ClaimDecision.DUPLICATE_DELIVERY:
            return
        new: list[DomainEvent] = []
        if not versions:
            period = finding.programme
            new.append(
                ClaimRecorded(
                    claim_id=claim.claim_id,
                    worker_id=worker_id,
                    kpj=claim.kpj,
                    programme_code=period.programme_code if period else None,
                    regency_code=period.regency_code if period else None,
                    programme=event.programme,
                    benefit_kind=claim.kind.value,
                    incident_date=claim.incident_date,
                    paid_date=claim.paid_date,
                    amount=claim.amount,
                )
            )
        if review.flags:
            previous = versions[-1] if versions else None
            new.append(
                ClaimFlagged(
                    claim_id=claim.claim_id,
                    worker_id=worker_id,
                    kpj=claim.kpj,
                    reasons=[reason_of(f, claim, finding, previous) for f in review.flags],
                )
            )
        await ctx.store.append(
            conn,
            stream,
            new,
            expected_version=len(history),
            correlation_id=ctx.envelope.correlation_id,
            causation_id=ctx.envelope.event_id,
        )


async def _other_claims(conn: AsyncConnection, claim: PaidClaim) -> list[PaidClaim]:
    """Claims recorded under other claim ids for the same KPJ or the same worker (NIK)."""
    rows = await conn.execute(
        select(claims)
        .where(
            or_(claims.c.kpj == claim.kpj, claims.c.worker_id == claim.nik),
            claims.c.claim_id != claim.claim_id,
        )
        .order_by(claims.c.recorded_at, claims.c.claim_id)
    )
    return [
        PaidClaim(
            claim_id=r.claim_id,
            kpj=r.kpj,
            nik=r.worker_id or "",
            programme=Programme(r.programme),
            kind=BenefitKind(r.benefit_kind),
            incident_date=r.incident_date,
            paid_date=r.paid_date,
            amount=r.amount,
        )
        for r in rows
    ]
