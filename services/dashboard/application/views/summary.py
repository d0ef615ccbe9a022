"""A programme's monitoring summary, for the whole province or one regency.

One summary feeds the JSON API, the page's charts and both reports, so the figures an officer sees
on screen, in the PDF and in the spreadsheet are the same numbers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.dashboard.adapters.tables import eventstore, placements, programmes
from services.dashboard.application.views.money import (
    bills_of,
    claim_flags_of,
    claim_kinds_of,
    claims_of,
    premiums_of,
)
from services.dashboard.application.views.programmes import ProgrammeNotFound, decrees_of, programme_json
from services.dashboard.application.views.scope import region_sort_key, scope_json
from services.dashboard.application.views.tables import (
    billed_vs_paid,
    by_regency_money,
    claims_by_month,
    ranked,
    regency_rows,
)
from services.dashboard.application.views.workers import (
    cells_of,
    failures_of,
    kecamatan_rows,
    reasons_of,
    rejections_of,
    villages_of,
)
from services.dashboard.domain import labels as lb
from services.dashboard.domain.figures import FUNNEL, budget, by_sector, grouped, identities, rates, total


async def summary(
    conn: AsyncConnection, code: str, regency: str | None, *, as_of: datetime
) -> dict[str, Any]:
    """Everything the dashboard shows for programme `code`, province-wide or for one regency, as
    of `as_of` (the clock's now)."""
    prog = (await conn.execute(select(programmes).where(programmes.c.programme_code == code))).first()
    if prog is None:
        raise ProgrammeNotFound(code)
    scope = scope_json(prog, regency)
    area = scope["regency"]
    cells = await cells_of(conn, code, area, prog.requires_decree)
    claim_rows = await claims_of(conn, code, area)
    premium_rows = await premiums_of(conn, code, area)
    bill_rows = await bills_of(conn, code, area)
    paid, claimed, premium_months = by_regency_money(premium_rows, claim_rows)
    counts = total(cells.values())
    cap = prog.budget_cap if scope["whole_programme"] else None
    money = budget(counts, prog.cost_per_worker, sum(paid.values()), cap)
    claims_json = claims_by_month(claim_rows)
    claim_totals = claims_json["totals"].values()
    sectors = by_sector(cells)
    last = (await conn.execute(select(func.max(eventstore.inbox.c.consumed_at)))).scalar_one()
    decree_rows = await decrees_of(conn, code)
    totals = {
        **counts.as_dict(),
        "committed": money.committed,
        "billed": sum(int(r.total) for r in bill_rows),
        "paid": money.paid,
        "claims": sum(t["claims"] for t in claim_totals),
        "claims_amount": sum(t["amount"] for t in claim_totals),
        "claims_flagged": sum(t["flagged"] for t in claim_totals),
        "decrees": len(decree_rows),
        "decree_changes": max(len(decree_rows) - 1, 0),
    }
    rejections = ranked(await rejections_of(conn, code, area), lb.REJECTION_LABELS)
    p = placements.c
    return {
        "programme": programme_json(prog),
        "scope": scope,
        "totals": totals,
        "identities": identities(counts),
        "rates": rates(totals, money.as_dict()),
        "budget": money.as_dict(),
        "funnel": [
            {"stage": stage, "label": lb.FUNNEL_LABELS[stage], "count": getattr(counts, stage)}
            for stage in FUNNEL
        ],
        "sectors": [
            {"sector": s, "label": lb.label(lb.SECTOR_LABELS, s), **sectors[s].as_dict()}
            for s in sorted(sectors)
        ],
        "cells": [
            {"regency": r, "sector": s, **c.as_dict()}
            for (r, s), c in sorted(cells.items(), key=lambda kv: (region_sort_key(kv[0][0]), kv[0][1]))
        ],
        "rejections": rejections,
        "rejections_chart": grouped(rejections),
        "releases": ranked(
            await reasons_of(conn, code, area, "released", p.release_reason, "unknown"), lb.RELEASE_LABELS
        ),
        "waitlist_reasons": ranked(
            await reasons_of(conn, code, area, "waitlisted", p.waitlist_reason, "no_seat"), lb.WAITLIST_LABELS
        ),
        "failures": ranked(await failures_of(conn, code, area), lb.ENROLMENT_FAILURE_LABELS),
        "claims": {
            **claims_json,
            "kinds": await claim_kinds_of(conn, code, area),
            "flags": ranked(await claim_flags_of(conn, code, area), lb.CLAIM_FLAG_LABELS),
        },
        "premiums": premium_months,
        "billing": billed_vs_paid(bill_rows, premium_rows, prog.funder),
        "decrees": decree_rows,
        "villages": await villages_of(conn, code, area, prog.village_cap) if prog.village_cap else [],
        "kecamatan": (
            await kecamatan_rows(conn, code, area, prog.requires_decree, prog.cost_per_worker) if area else []
        ),
        "regencies": regency_rows(cells, prog.cost_per_worker, paid, claimed, area),
        "as_of": as_of.isoformat(),
        "last_event_at": last.isoformat() if last else None,
    }
