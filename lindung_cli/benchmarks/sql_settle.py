"""When PostgreSQL's table counters hold everything the services wrote, without sitting out the
idle flush interval after every change.

A backend adds its table counters to the shared ones (pg_stat_user_tables) as it goes idle, at most
once a second (PGSTAT_MIN_INTERVAL); what it could not add then, it adds at its next idle
transition a second or more after its last flush, or from a timer 10 s later (PGSTAT_IDLE_INTERVAL)
if it stays idle; an exiting backend adds them as it exits. A service's outbox relay polls through
the service's pool every few tens of milliseconds and the pool hands out its connections in turn,
so most of a service's backends pass another idle transition within a second or two; one that no
one takes flushes from its timer.

So the counters are settled once (1) no service has run a writing statement for `still_s` (their
calls in pg_stat_statements, counted at each statement's end, without delay: the stack is quiet),
and (2) every backend of a service role has, since its role's last write, either gone idle twice at
least a second apart (the second idle transition added what the first could not), or been idle
longer than the timer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

# PGSTAT_IDLE_INTERVAL (10 s) and a margin: an idle backend's timer has flushed it by then.
IDLE_FLUSH_S = 10.5
# PGSTAT_MIN_INTERVAL: a backend going idle this long after its last flush flushes again.
MIN_FLUSH_GAP_S = 1.0
# How long the services' writing statements must stay still: a few idle hops between services.
STILL_S = 3.0


@dataclass(frozen=True)
class Backend:
    """A service's database session as pg_stat_activity shows it (times on the database's clock)."""

    key: tuple[int, float]  # pid and start: a pid can be reused by a later backend
    service: str
    idle: bool  # 'idle', not 'idle in transaction'
    since: float  # when it entered its current state (epoch seconds)


@dataclass
class FlushWatch:
    """Readings of the services' write calls and backends, in order; `observe` says when settled."""

    still_s: float = STILL_S
    writes: dict[str, int] = field(default_factory=dict)
    last_change: float | None = None
    # Per backend: its first idle transition seen after its role's last write.
    first_idle: dict[tuple[int, float], float] = field(default_factory=dict)

    def observe(self, now: float, writes: dict[str, int], backends: list[Backend]) -> bool:
        """Take one reading (write calls per service, then the backends, at `now`); True when the
        table counters hold every write (module docstring)."""
        if self.last_change is None:
            self.last_change = now
        changed = {s for s in writes.keys() | self.writes.keys() if writes.get(s) != self.writes.get(s)}
        if changed and self.writes:
            self.last_change = now
        self.writes = dict(writes)
        current = {b.key for b in backends}
        self.first_idle = {key: at for key, at in self.first_idle.items() if key in current}
        settled = now - self.last_change >= self.still_s
        for backend in backends:
            if backend.service in changed:
                self.first_idle.pop(backend.key, None)
            if not backend.idle:
                settled = False
                continue
            first = self.first_idle.setdefault(backend.key, backend.since)
            flushed = now - backend.since >= IDLE_FLUSH_S or backend.since - first >= MIN_FLUSH_GAP_S
            settled = settled and flushed
        return settled


async def service_backends(
    conn: AsyncConnection, services: dict[str, str]
) -> tuple[float, list[Backend]] | None:
    """The database's clock now and the sessions of the roles in `services` (role -> service);
    None when this connection may not see their state (not a superuser nor pg_read_all_stats)."""
    rows = (
        await conn.execute(
            text(
                "SELECT pid, extract(epoch FROM backend_start), usename, state,"
                " extract(epoch FROM state_change), extract(epoch FROM clock_timestamp())"
                " FROM pg_stat_activity WHERE backend_type = 'client backend'"
            )
        )
    ).all()
    now = float(rows[0][5]) if rows else 0.0
    found: list[Backend] = []
    for pid, started, role, state, since, _ in rows:
        service = services.get(str(role))
        if service is None:
            continue
        if state is None or since is None:
            return None
        found.append(Backend((int(pid), float(started)), service, state == "idle", float(since)))
    return now, found
