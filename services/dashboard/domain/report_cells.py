"""The cells of the report's tables: columns and how to show their values, and the one rounding
of shares."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from services.dashboard.domain import labels as lb

Kind = Literal["text", "int", "rp", "pct", "year"]
Value = str | int | float | None


@dataclass(frozen=True)
class Column:
    title: str
    kind: Kind = "int"


@dataclass
class Section:
    """One table of the report."""

    key: str  # sheet name in the workbook
    title: str
    columns: list[Column]
    rows: list[list[Value]] = field(default_factory=list)
    total: list[Value] | None = None
    note: str = ""


def share(part: int, whole: int) -> float | None:
    """part / whole as a fraction, rounded by the one rule of labels.percent_tenths (so a cell
    formatted 0.0% never shows a shortfall as 100%); None when whole is 0."""
    tenths = lb.percent_tenths(part, whole)
    return None if tenths is None else tenths / 1000
