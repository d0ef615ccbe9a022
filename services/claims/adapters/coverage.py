"""The coverage facts of a claim's worker, read back from the claims service's own tables.

A claim finds its worker's programmes by its KPJ or by the worker id its NIK maps to (the same
person under another KPJ); each programme's facts become a domain `ProgrammeCoverage`, which
alone judges (domain/coverage.py documents the rules).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncConnection

from services.claims.adapters.tables import coverage, coverage_facts
from services.claims.domain.coverage import CoverageEnd, Lapse, ProgrammeCoverage


async def coverage_for(conn: AsyncConnection, kpj: str, worker_id: str) -> list[ProgrammeCoverage]:
    """Every programme we paid (or pay) for the claim's KPJ or worker, with its facts."""
    periods = (
        await conn.execute(
            select(coverage).where(or_(coverage.c.kpj == kpj, coverage.c.worker_id == worker_id))
        )
    ).all()
    if not periods:
        return []
    keys = [(p.worker_id, p.programme_code) for p in periods]
    facts = await conn.execute(
        select(coverage_facts).where(
            tuple_(coverage_facts.c.worker_id, coverage_facts.c.programme_code).in_(keys)
        )
    )
    return programmes_from(periods, facts)


def programmes_from(periods: Iterable[Any], facts: Iterable[Any]) -> list[ProgrammeCoverage]:
    """`coverage` rows and their `coverage_facts` rows as domain objects."""
    by_key: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for f in facts:
        by_key[(f.worker_id, f.programme_code)].append(f)
    found = []
    for p in periods:
        rows = by_key[(p.worker_id, p.programme_code)]
        enrolled: tuple[date, ...] = tuple(sorted({f.day for f in rows if f.kind == "enrolled"}))
        found.append(
            ProgrammeCoverage(
                worker_id=p.worker_id,
                programme_code=p.programme_code,
                kpj=p.kpj,
                regency_code=p.regency_code,
                coverage_start=p.coverage_start,
                coverage_end=p.coverage_end,
                # Enrolled before the facts were kept (revision 0002): by the programme's start.
                enrolled_on=enrolled or (p.coverage_start,),
                paid_months=frozenset(f.month for f in rows if f.kind in ("paid", "restored")),
                lapses=tuple(Lapse(f.month, f.day) for f in rows if f.kind == "lapsed"),
                ends=tuple(
                    CoverageEnd(f.day, f.kind == "membership_ended", f.reason or "membership_ended")
                    for f in rows
                    if f.kind in ("ended", "membership_ended")
                ),
            )
        )
    return found
