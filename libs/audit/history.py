"""Reading a service's past from its events alone, and the calendar the questions are asked in.

Point-in-time answers use `occurred_at`, the instant inside the hash-chained envelope: unlike
`recorded_at` (a column outside the chain), an edit of it breaks `lindung audit verify`.

Dates are North Sumatra's calendar, WIB (UTC+07:00, no daylight saving): "on 2026-03-31" means
up to 2026-03-31T23:59:59.999999+07:00; a month ends at the last instant of its last day; the
fiscal year (APBD) is the calendar year.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, timezone

from sqlalchemy import Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.envelope import Envelope
from libs.eventstore.store import row_to_envelope

WIB = timezone(timedelta(hours=7), "WIB")


def end_of_day(day: date) -> datetime:
    """The last instant of `day` in WIB."""
    return datetime.combine(day, time.max, WIB)


def end_of_month(year: int, month: int) -> datetime:
    """The last instant of the month in WIB."""
    first_of_next = date(year + month // 12, month % 12 + 1, 1)
    return end_of_day(first_of_next - timedelta(days=1))


def year_bounds(year: int) -> tuple[datetime, datetime]:
    """[start, end) of a calendar (fiscal) year in WIB."""
    return datetime(year, 1, 1, tzinfo=WIB), datetime(year + 1, 1, 1, tzinfo=WIB)


def local_day(instant: datetime) -> date:
    """The WIB calendar day of `instant`."""
    return instant.astimezone(WIB).date()


async def events_until(
    conn: AsyncConnection, events: Table, *, types: Iterable[str], until: datetime | None
) -> list[Envelope]:
    """Events of `types` that occurred at or before `until`, in log order (position)."""
    query = select(events).where(events.c.event_type.in_(list(types)))
    if until is not None:
        query = query.where(events.c.occurred_at <= until)
    rows = await conn.execute(query.order_by(events.c.position))
    return [row_to_envelope(r) for r in rows]
