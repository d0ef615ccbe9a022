"""Programme files (docs/examples) as a programme year reads them: their seats, cost, months of
coverage, and the programme scaled to a fraction of its size (seats apportioned per sector, the
money kept exact)."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

import yaml

from libs.premium_rates import JKK_PER_MONTH, JKM_PER_MONTH


def read_programme(path: Path) -> dict[str, Any]:
    """A programme file (docs/examples) as a dict."""
    spec: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return spec


def _apportion(weights: list[int], total: int) -> list[int]:
    """`total` split in proportion to `weights` (largest remainder): the parts add up exactly."""
    whole = sum(weights)
    exact = [Fraction(w * total, whole) for w in weights]
    parts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: (-(exact[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


def cost_per_worker(spec: dict[str, Any]) -> int:
    """What one seat costs for the whole period, from the file (or the programme defaults the
    allocation service applies: read back from its answer when it matters)."""
    months = int(spec.get("months", 12))
    return (
        int(spec.get("premium_jkk", JKK_PER_MONTH)) + int(spec.get("premium_jkm", JKM_PER_MONTH))
    ) * months


def scale_programme(spec: dict[str, Any], code: str, factor: Fraction) -> dict[str, Any]:
    """The programme at `factor` of its size under another code: each sector's seats scaled (at
    least one seat per regency and sector kept) and the cap = seats × cost + the file's slack (or
    shortfall) × factor, which must stay a whole rupiah. A per-village cap is scaled too."""
    quotas = list(spec["quotas"])
    scaled: list[dict[str, Any]] = []
    for sector in dict.fromkeys(q["sector"] for q in quotas):
        cells = [q for q in quotas if q["sector"] == sector]
        total = max(len(cells), round(sum(int(q["seats"]) for q in cells) * factor))
        extra = _apportion([int(q["seats"]) for q in cells], total - len(cells))
        scaled += [{**q, "seats": 1 + n} for q, n in zip(cells, extra, strict=True)]
    cost = cost_per_worker(spec)
    slack = Fraction(int(spec["budget_cap"]) - sum(int(q["seats"]) for q in quotas) * cost) * factor
    if slack.denominator != 1:
        raise ValueError(f"the cap's slack {slack} is not a whole rupiah at factor {factor}")
    out = {**spec, "code": code, "quotas": scaled}
    out["name"] = f"{spec['name']} (uji skala {factor})" if factor != 1 else spec["name"]
    out["budget_cap"] = sum(q["seats"] for q in scaled) * cost + int(slack)
    if spec.get("village_cap"):
        out["village_cap"] = max(1, round(int(spec["village_cap"]) * factor))
    return out


def programme_yaml(spec: dict[str, Any]) -> str:
    """The programme as the YAML allocation's POST /programmes takes."""
    return yaml.safe_dump(spec, sort_keys=False, allow_unicode=True)


def seats_of(spec: dict[str, Any]) -> dict[tuple[str, str], int]:
    """Seats per (regency, sector) of the programme."""
    return {(str(q["regency"]), str(q["sector"])): int(q["seats"]) for q in spec["quotas"]}


def coverage_months(spec: dict[str, Any]) -> list[str]:
    """The programme's months of coverage, "YYYY-MM", in order."""
    start: date = spec["coverage_start"]
    return [add_months(f"{start.year:04d}-{start.month:02d}", k) for k in range(int(spec.get("months", 12)))]


def add_months(month: str, k: int) -> str:
    """The month `k` months after `month` ("YYYY-MM")."""
    index = int(month[:4]) * 12 + int(month[5:]) - 1 + k
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def first_day(month: str) -> date:
    """The first day of `month` ("YYYY-MM")."""
    return date(int(month[:4]), int(month[5:]), 1)
