"""Where the outbox relay stands: the id of the last row it published, kept in memory.

The relay reads `WHERE id > position ORDER BY id` instead of `WHERE sent_at IS NULL` and so
writes nothing per row while it sends. `sent_at` keeps its meaning for everyone who reads it
(tools, tests, the pipeline bench, outbox pruning): the relay remembers the time the broker
acknowledged each batch and stamps every row up to its position with one UPDATE when it has
caught up (or every `STAMP_EVERY_BATCHES` batches under load, or when it stops). The stamps are
also the position's durable copy: a relay that starts (or a new leader) begins after the last
row of the unbroken run of stamped rows, so a crash re-sends at most the unstamped batches
(consumers drop repeats through their inboxes).

Ids come from an identity column, so a transaction that took an id and commits after a later
one leaves a hole the relay must not skip, while a rolled-back transaction leaves one for ever.
A hole is skipped only once every transaction that was writing to the outbox when the hole was
seen has ended (PostgreSQL's lock table lists them: an INSERT takes its table lock before it
draws an id, and holds it to the end of its transaction), and only on a read made after that.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, DateTime, Table, bindparam, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncConnection

# Under load the relay stamps `sent_at` at least every this many batches (bounds what a crash
# re-sends and how stale `sent_at` looks).
STAMP_EVERY_BATCHES = 64

_BIGINTS = ARRAY(BigInteger)
_TIMES = ARRAY(DateTime(timezone=True))


@dataclass(frozen=True)
class SentBatch:
    """Rows with `after < id <= upto` reached the broker at `at`."""

    after: int
    upto: int
    at: datetime


@dataclass(frozen=True)
class Hole:
    """Ids up to `upto` seen missing while the transactions `writers` were writing."""

    upto: int
    writers: frozenset[str]


@dataclass
class RelayCursor:
    """The relay's position and what it has not stamped yet."""

    position: int
    # Missing ids up to here are known never to come (their transactions ended).
    settled: int = 0
    unstamped: list[SentBatch] = field(default_factory=list)
    hole: Hole | None = None

    def unbroken(self, ids: Sequence[int]) -> int:
        """How many of `ids` (ascending, all above the position) may be sent now: those before
        the first hole not known to be settled."""
        expected = self.position + 1
        count = 0
        for row_id in ids:
            if row_id != expected and row_id - 1 > self.settled:
                break
            expected = row_id + 1
            count += 1
        return count

    def advance(self, upto: int, at: datetime | None) -> None:
        """Every row up to `upto` is on the broker (`at`: when; None: nothing was sent, the rows
        were stamped before)."""
        if at is not None:
            self.unstamped.append(SentBatch(self.position, upto, at))
        self.position = upto
        if self.hole is not None and self.hole.upto <= upto:
            self.hole = None

    def stamp_due(self) -> bool:
        return len(self.unstamped) >= STAMP_EVERY_BATCHES

    def settle(self) -> None:
        """The hole's writers have ended: its missing ids are final (for the next read)."""
        if self.hole is not None:
            self.settled = max(self.settled, self.hole.upto)
            self.hole = None


def _name(outbox: Table) -> str:
    return f"{outbox.schema}.{outbox.name}" if outbox.schema else outbox.name


async def start_position(conn: AsyncConnection, outbox: Table) -> int:
    """The last row stamped sent before the first row not stamped (all stamped: the last row).

    Not "first unsent - 1": an id just below the first unsent row may belong to a transaction
    still writing; from the last stamped row on, such a hole is waited for like any other."""
    name = _name(outbox)
    found = await conn.execute(
        text(
            f"WITH first AS (SELECT min(id) AS id FROM {name} WHERE sent_at IS NULL) "
            f"SELECT CASE WHEN first.id IS NULL THEN (SELECT max(id) FROM {name}) "
            f"ELSE (SELECT max(o.id) FROM {name} o WHERE o.id < first.id) END FROM first"
        )
    )
    return int(found.scalar_one() or 0)


async def rows_after(conn: AsyncConnection, outbox: Table, position: int, limit: int) -> list[Any]:
    """The next rows by id, with whether each was stamped sent already (never published again)."""
    found = await conn.execute(
        text(
            f"SELECT id, topic, key, value, headers, sent_at IS NOT NULL AS stamped FROM {_name(outbox)}"
            " WHERE id > :position ORDER BY id LIMIT :limit"
        ).bindparams(bindparam("position", position, type_=BigInteger), limit=limit)
    )
    return list(found.all())


async def outbox_writers(conn: AsyncConnection, outbox: Table) -> frozenset[str]:
    """The transactions (virtual ids) holding a write lock on the outbox now, other than ours."""
    found = await conn.execute(
        text(
            "SELECT virtualtransaction FROM pg_locks WHERE locktype = 'relation'"
            " AND relation = to_regclass(:name) AND mode = 'RowExclusiveLock'"
            " AND pid IS DISTINCT FROM pg_backend_pid()"
        ).bindparams(name=_name(outbox))
    )
    return frozenset(str(v) for v in found.scalars())


async def stamp(conn: AsyncConnection, outbox: Table, batches: Sequence[SentBatch]) -> int:
    """Set `sent_at` of every row of `batches` not stamped yet, in one statement."""
    if not batches:
        return 0
    result = await conn.execute(
        text(
            f"UPDATE {_name(outbox)} AS o SET sent_at = s.at"
            " FROM unnest(:after, :upto, :at) AS s(after, upto, at)"
            " WHERE o.id > s.after AND o.id <= s.upto AND o.sent_at IS NULL"
        ).bindparams(
            bindparam("after", [b.after for b in batches], type_=_BIGINTS),
            bindparam("upto", [b.upto for b in batches], type_=_BIGINTS),
            bindparam("at", [b.at for b in batches], type_=_TIMES),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def mark_all_unsent(conn: AsyncConnection, outbox: Table) -> int:
    """Every row unsent again (a new, empty cluster): the relay starts over from position 0."""
    result = await conn.execute(text(f"UPDATE {_name(outbox)} SET sent_at = NULL WHERE sent_at IS NOT NULL"))
    return int(getattr(result, "rowcount", 0) or 0)
