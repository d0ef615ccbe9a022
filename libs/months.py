"""Calendar months as events name them (`YYYY-MM`), and months after a day: shared by the
services that judge premiums month by month (claims, the BPJS simulator)."""

from __future__ import annotations

import calendar
from datetime import date


def plus_months(day: date, months: int) -> date:
    """The same day `months` later; a day the target month lacks becomes its last day
    (31 January + 1 month = 28 or 29 February; 29 February + 12 months = 28 February)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def month_of(day: date) -> str:
    """`YYYY-MM`, the way enrollment's and BPJS's events name a premium month."""
    return f"{day.year:04d}-{day.month:02d}"
