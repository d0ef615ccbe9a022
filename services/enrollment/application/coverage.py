"""Coverage on a day, with the events that prove it (the read side of coverage; lapses are
recorded by lapses.py).

The facts of each (worker, programme) sit in `coverage_facts` (projected from EnrolledAtBPJS,
PremiumPaid and CoverageLapsed, each row naming its event) and are read back into the domain's
`CoverageLedger`, which alone decides (domain/coverage.py documents the rules).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.enrollment.adapters.tables import coverage_facts
from services.enrollment.domain.coverage import (
    CoverageEnd,
    CoverageLedger,
    CoveragePolicy,
    CoverageReason,
    Enrollment,
    Lapse,
    PremiumPayment,
)
from services.enrollment.domain.months import YearMonth


@dataclass
class Proofs:
    """The event behind each fact of one ledger."""

    enrolled: tuple[uuid.UUID, str] | None = None
    paid: dict[YearMonth, list[tuple[date, uuid.UUID]]] = field(default_factory=lambda: defaultdict(list))
    lapsed: dict[YearMonth, list[tuple[date, uuid.UUID]]] = field(default_factory=lambda: defaultdict(list))
    ended: tuple[uuid.UUID, str] | None = None


@dataclass
class ProgrammeCoverage:
    """One worker's coverage under one programme: the ledger and where its facts come from."""

    worker_id: str
    programme_code: str
    ledger: CoverageLedger = field(default_factory=CoverageLedger)
    proofs: Proofs = field(default_factory=Proofs)


def ledgers_from(rows: Iterable[Any]) -> dict[tuple[str, str], ProgrammeCoverage]:
    """Ledgers per (worker, programme) from `coverage_facts` rows."""
    found: dict[tuple[str, str], ProgrammeCoverage] = {}
    for r in rows:
        pc = found.setdefault(
            (r.worker_id, r.programme_code), ProgrammeCoverage(r.worker_id, r.programme_code)
        )
        if r.kind == "enrolled":
            pc.ledger = pc.ledger.record(Enrollment(r.day, r.coverage_start, r.coverage_end))
            pc.proofs.enrolled = (r.event_id, r.event_type)
        elif r.kind == "paid":
            month = YearMonth.parse(r.month)
            pc.ledger = pc.ledger.record(PremiumPayment(month, r.day))
            pc.proofs.paid[month].append((r.day, r.event_id))
        elif r.kind == "lapsed":
            month = YearMonth.parse(r.month)
            pc.ledger = pc.ledger.record(Lapse(month, r.ended_on, r.day))
            pc.proofs.lapsed[month].append((r.day, r.event_id))
        elif r.kind == "ended":
            # The end is known from its last covered day (CoverageEnded carries no other date).
            pc.ledger = pc.ledger.record(CoverageEnd(r.ended_on, r.month, r.day))
            pc.proofs.ended = (r.event_id, r.event_type)
    return found


def _earliest_known(entries: list[tuple[date, uuid.UUID]], known_at: date | None) -> uuid.UUID | None:
    known = sorted(e for e in entries if known_at is None or e[0] <= known_at)
    return known[0][1] if known else None


def _proof(
    pc: ProgrammeCoverage, on: date, reason: CoverageReason, known_at: date | None
) -> list[dict[str, str]]:
    """The events that prove the answer for `on`: the enrollment, and the payment that covers the
    day (or the last one before a grace period), or the lapse that ended coverage."""
    proof: list[dict[str, str]] = []
    if pc.proofs.enrolled is not None:
        enrolled_id, event_type = pc.proofs.enrolled
        proof.append({"event_id": str(enrolled_id), "event_type": event_type})
    if reason in (CoverageReason.COVERAGE_ENDED, CoverageReason.MEMBERSHIP_ENDED) and pc.proofs.ended:
        ended_id, event_type = pc.proofs.ended
        proof.append({"event_id": str(ended_id), "event_type": event_type})
        return proof
    month = YearMonth.of(on)
    paid_known = {m for m, entries in pc.proofs.paid.items() if _earliest_known(entries, known_at)}
    if reason is CoverageReason.PREMIUM_PAID:
        paid_id = _earliest_known(pc.proofs.paid[month], known_at)
        if paid_id is not None:
            proof.append({"event_id": str(paid_id), "event_type": "PremiumPaid", "month": str(month)})
    elif reason in (CoverageReason.IN_GRACE, CoverageReason.PREMIUM_UNPAID):
        before = sorted(m for m in paid_known if m < month)
        if before:
            event_id = _earliest_known(pc.proofs.paid[before[-1]], known_at)
            if event_id is not None:
                proof.append(
                    {"event_id": str(event_id), "event_type": "PremiumPaid", "month": str(before[-1])}
                )
        if reason is CoverageReason.PREMIUM_UNPAID:
            run_start = before[-1].plus(1) if before else None
            for lapse_month, entries in sorted(pc.proofs.lapsed.items()):
                if run_start is not None and run_start <= lapse_month <= month:
                    event_id = _earliest_known(entries, known_at)
                    if event_id is not None:
                        proof.append(
                            {
                                "event_id": str(event_id),
                                "event_type": "CoverageLapsed",
                                "month": str(lapse_month),
                            }
                        )
    return proof


def answer_for(
    pc: ProgrammeCoverage, on: date, policy: CoveragePolicy, known_at: date | None
) -> dict[str, Any]:
    """Whether `on` is covered under this programme, why, the covered period, and the proof."""
    answer = pc.ledger.is_covered(on, policy, known_at=known_at)
    end = pc.ledger.end
    ended = answer.reason in (CoverageReason.COVERAGE_ENDED, CoverageReason.MEMBERSHIP_ENDED)
    return {
        "programme_code": pc.programme_code,
        "covered": answer.covered,
        "reason": answer.reason.value,
        # Why the programme let the worker go (withdrawn, died, membership_ended, ...), and the
        # last covered day, when the day asked about is after that end.
        "end_reason": end.reason if ended and end else None,
        "ended_on": end.ended_on.isoformat() if ended and end else None,
        "period": None
        if answer.period is None
        else {"from": answer.period[0].isoformat(), "to": answer.period[1].isoformat()},
        "proof": _proof(pc, on, answer.reason, known_at),
    }


async def coverage_of(conn: AsyncConnection, worker_id: str) -> list[ProgrammeCoverage]:
    rows = (await conn.execute(select(coverage_facts).where(coverage_facts.c.worker_id == worker_id))).all()
    return sorted(ledgers_from(rows).values(), key=lambda pc: pc.programme_code)


async def ledgers_of(
    conn: AsyncConnection, worker_ids: Iterable[str]
) -> dict[tuple[str, str], CoverageLedger]:
    """The ledger of each (worker, programme) of `worker_ids`, in one query."""
    wanted = sorted(set(worker_ids))
    rows = (await conn.execute(select(coverage_facts).where(coverage_facts.c.worker_id.in_(wanted)))).all()
    return {key: pc.ledger for key, pc in ledgers_from(rows).items()}
