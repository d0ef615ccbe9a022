"""The summary's tables shaped from query rows (no SQL): claims and premiums per month and
regency, billed against paid, reasons ranked, one row per regency."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from services.dashboard.application.views.scope import region_sort_key
from services.dashboard.domain import labels as lb
from services.dashboard.domain.figures import Cell, Counters, budget, by_regency
from services.dashboard.domain.labels import REGION_ORDER, regency_name


def no_claims() -> dict[str, int]:
    """Claims, amount and flagged at zero."""
    return {"claims": 0, "amount": 0, "flagged": 0}


def claims_by_month(rows: list[Any]) -> dict[str, Any]:
    """Claims per paid month and per programme (JKK/JKM), and their totals."""
    months: dict[str, dict[str, dict[str, int]]] = {}
    totals = {"JKK": no_claims(), "JKM": no_claims()}
    for r in rows:
        month = months.setdefault(r.month, {"JKK": no_claims(), "JKM": no_claims()})
        for bucket in (
            month.setdefault(r.claim_type, no_claims()),
            totals.setdefault(r.claim_type, no_claims()),
        ):
            bucket["claims"] += r.claims
            bucket["amount"] += int(r.amount or 0)
            bucket["flagged"] += r.flagged
    return {
        "by_month": [{"month": m, "label": lb.month_label(m), **months[m]} for m in sorted(months)],
        "totals": totals,
    }


def by_regency_money(
    premium_rows: list[Any], claim_rows: list[Any]
) -> tuple[dict[str, int], dict[str, dict[str, int]], list[dict[str, Any]]]:
    """Premiums paid and claims per regency, and premiums per month."""
    paid: dict[str, int] = defaultdict(int)
    per_month: dict[str, dict[str, int]] = {}
    for r in premium_rows:
        paid[r.regency_code] += int(r.total)
        month = per_month.setdefault(r.month, {"workers": 0, "total": 0})
        month["workers"] += int(r.workers)
        month["total"] += int(r.total)
    claimed: dict[str, dict[str, int]] = defaultdict(no_claims)
    for r in claim_rows:
        if r.regency_code is not None:
            slot = claimed[r.regency_code]
            slot["claims"] += r.claims
            slot["amount"] += int(r.amount or 0)
            slot["flagged"] += r.flagged
    months = [{"month": m, "label": lb.month_label(m), **per_month[m]} for m in sorted(per_month)]
    return dict(paid), dict(claimed), months


def regency_rows(
    cells: dict[Cell, Counters],
    cost: int,
    paid: dict[str, int],
    claimed: dict[str, dict[str, int]],
    regency: str | None,
) -> list[dict[str, Any]]:
    """One row per regency: all 33 (and any unknown code seen) province-wide, else the one."""
    counters = by_regency(cells)
    shown = {regency} if regency else set(counters) | set(paid) | set(claimed) | set(REGION_ORDER)
    rows = []
    for code in sorted(shown, key=region_sort_key):
        c = counters.get(code, Counters())
        money = budget(c, cost, paid.get(code, 0), None)
        claims_here = claimed.get(code, no_claims())
        rows.append(
            {
                "code": code,
                "name": regency_name(code),
                **c.as_dict(),
                "allotment": money.allotment,
                "committed": money.committed,
                "paid": money.paid,
                "claims": claims_here["claims"],
                "claims_amount": claims_here["amount"],
            }
        )
    return rows


def billed_vs_paid(bill_rows: list[Any], premium_rows: list[Any], funder: str) -> list[dict[str, Any]]:
    """Premiums billed and paid per month and funder (a payment older than its funder's column
    counts under the programme's funder)."""
    slots: dict[tuple[str, str], dict[str, int]] = {}

    def slot(month: str, who: str) -> dict[str, int]:
        return slots.setdefault(
            (month, who or funder), {"billed_workers": 0, "billed": 0, "paid_workers": 0, "paid": 0}
        )

    for r in bill_rows:
        row = slot(r.month, r.funder)
        row["billed_workers"] += int(r.workers)
        row["billed"] += int(r.total)
    for r in premium_rows:
        row = slot(r.month, r.funder)
        row["paid_workers"] += int(r.workers)
        row["paid"] += int(r.total)
    return [
        {
            "month": m,
            "label": lb.month_label(m),
            "funder": f,
            "funder_label": lb.label(lb.FUNDER_LABELS, f),
            **v,
            "unpaid": v["billed"] - v["paid"],
        }
        for (m, f), v in sorted(slots.items())
    ]


def ranked(counts: dict[str, int], table: dict[str, str]) -> list[dict[str, Any]]:
    """Counts by code with their labels, most first (ties by code)."""
    return [
        {"code": code, "label": lb.label(table, code), "count": n}
        for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]
