"""What a benchmark run asked of PostgreSQL, per service: statements (from pg_stat_statements, by
the service's own database role, when the server loaded it: `BenchStack` does), rows inserted,
updated and deleted in its schema (pg_stat_user_tables) and the database's commits
(pg_stat_database): a reading before the run, one after, the difference divided by the workers.

Statements are sorted by their first word: reads (SELECT, a WITH that writes nothing), writes
(INSERT, UPDATE, DELETE, MERGE, COPY, a WITH that writes), commits, and other (BEGIN, SAVEPOINT,
SET...). Rows come from the tables' counters, not the statements' (a data-modifying WITH reports
the rows it returns, not the rows it wrote). Each reading waits until those counters hold every
write the services made (`read_settled`, `sql_settle.py`).
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.service_names import SERVICES
from lindung_cli.benchmarks.sql_settle import STILL_S, FlushWatch, service_backends

KINDS = ("reads", "writes", "commits", "other")
ROW_KINDS = ("inserted", "updated", "deleted")
# The statements run most often, per service, listed in the report.
TOP = 5
# How long an idle backend may keep its table counters before it reports them, and a margin.
STATS_FLUSH_S = 11.0
# Between readings of the services' statements and sessions while waiting for the counters.
POLL_S = 0.5
_WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|MERGE)\b", re.IGNORECASE)
_COMMENT = re.compile(r"^\s*(--[^\n]*\n|/\*.*?\*/)", re.DOTALL)


def statement_kind(query: str) -> str:
    """reads, writes, commits or other, from the statement's first word (comments skipped)."""
    rest = query
    while (found := _COMMENT.match(rest)) is not None:
        rest = rest[found.end() :]
    word = (rest.split(None, 1) or [""])[0].upper().rstrip(";")
    if word in ("SELECT", "VALUES", "TABLE", "FETCH"):
        return "reads"
    if word == "WITH":
        return "writes" if _WRITES.search(rest) else "reads"
    if word in ("INSERT", "UPDATE", "DELETE", "MERGE", "COPY"):
        return "writes"
    if word in ("COMMIT", "END"):
        return "commits"
    return "other"


def service_of_role(role: str, prefix: str) -> str | None:
    """The service whose database role this is (`<prefix><service>`), else None."""
    name = role.removeprefix(prefix)
    return name if role.startswith(prefix) and name in SERVICES else None


@dataclass
class SqlReading:
    """Cumulative counters at one instant. `statements` is None without pg_stat_statements."""

    statements: dict[str, dict[str, int]] | None  # service -> query text -> calls
    rows: dict[str, dict[str, int]]  # schema -> inserted/updated/deleted
    commits: int
    rollbacks: int


def group_statements(rows: Iterable[tuple[str, str, int]], prefix: str) -> dict[str, dict[str, int]]:
    """(role, query, calls) → calls per service and query text (roles of no service left out)."""
    found: dict[str, dict[str, int]] = {}
    for role, query, calls in rows:
        service = service_of_role(role, prefix)
        if service is None:
            continue
        queries = found.setdefault(service, {})
        queries[query] = queries.get(query, 0) + int(calls)
    return found


def by_kind(calls: dict[str, int]) -> dict[str, int]:
    """Calls per query text → calls per kind (every kind, zero included)."""
    found = dict.fromkeys(KINDS, 0)
    for query, n in calls.items():
        found[statement_kind(query)] += n
    return found


def top(calls: dict[str, int], most: int = TOP) -> list[dict[str, Any]]:
    """The `most` statements run most often (reads and writes), their text cut to 200 characters."""
    ranked = sorted(
        ((n, q) for q, n in calls.items() if n > 0 and statement_kind(q) in ("reads", "writes")),
        key=lambda item: -item[0],
    )
    return [{"calls": n, "query": " ".join(q.split())[:200]} for n, q in ranked[:most]]


async def _statements(engine: AsyncEngine, prefix: str) -> dict[str, dict[str, int]] | None:
    sql = text(
        "SELECT r.rolname, s.query, s.calls FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid"
    )
    try:
        async with engine.connect() as conn:
            rows = (await conn.execute(sql)).all()
    except DBAPIError:
        # Not installed, or not in shared_preload_libraries: the tables' counters still tell rows.
        return None
    return group_statements(((str(r[0]), str(r[1]), int(r[2])) for r in rows), prefix)


async def read(engine: AsyncEngine, prefix: str) -> SqlReading:
    """The counters now."""
    statements = await _statements(engine, prefix)
    async with engine.connect() as conn:
        tables = (
            await conn.execute(
                text(
                    "SELECT schemaname, sum(n_tup_ins), sum(n_tup_upd), sum(n_tup_del)"
                    " FROM pg_stat_user_tables GROUP BY schemaname"
                )
            )
        ).all()
        database = (
            await conn.execute(
                text(
                    "SELECT xact_commit, xact_rollback FROM pg_stat_database"
                    " WHERE datname = current_database()"
                )
            )
        ).one()
    rows = {str(t[0]): dict(zip(ROW_KINDS, (int(v or 0) for v in t[1:]), strict=True)) for t in tables}
    return SqlReading(statements, rows, int(database[0]), int(database[1]))


def writes_by_service(statements: dict[str, dict[str, int]]) -> dict[str, int]:
    """Calls of writing statements so far, per service."""
    return {service: by_kind(calls)["writes"] for service, calls in statements.items()}


async def read_settled(
    engine: AsyncEngine, prefix: str, still_s: float = STILL_S, timeout_s: float = 60.0
) -> SqlReading:
    """The counters once the services are quiet and every one of their backends has added its
    table counters to the shared ones (sql_settle.py): a backend that flushed less than a second
    before it went idle adds the rest only 10 s later (PostgreSQL's PGSTAT_IDLE_INTERVAL). Without
    pg_stat_statements, or without the right to see the services' sessions: `read_still`."""
    services = {f"{prefix}{s}": s for s in SERVICES}
    watch = FlushWatch(still_s)
    deadline = time.monotonic() + timeout_s
    while True:
        statements = await _statements(engine, prefix)
        async with engine.connect() as conn:
            seen = await service_backends(conn, services)
        if statements is None or seen is None:
            return await read_still(engine, prefix, timeout_s=timeout_s)
        now, backends = seen
        if watch.observe(now, writes_by_service(statements), backends) or time.monotonic() > deadline:
            return await read(engine, prefix)
        await asyncio.sleep(POLL_S)


async def read_still(
    engine: AsyncEngine, prefix: str, still_s: float = STATS_FLUSH_S, timeout_s: float = 60.0
) -> SqlReading:
    """The counters once the tables' row counts have not moved for `still_s`: the run's last
    events are still being projected downstream of enrollment, and a backend that reported its
    table counters less than a second before it went idle reports the rest only 10 s later
    (PostgreSQL's PGSTAT_IDLE_INTERVAL), so a shorter still spell can read a count short."""
    last = await read(engine, prefix)
    still_since = waited = 0.0
    while waited < timeout_s and waited - still_since < still_s:
        await asyncio.sleep(1.0)
        waited += 1.0
        now = await read(engine, prefix)
        if now.rows != last.rows:
            still_since = waited
        last = now
    return last


def _minus(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: v - before.get(k, 0) for k, v in after.items()}


def _per(count: float, workers: int) -> float:
    return round(count / workers, 2) if workers else 0.0


def report(before: SqlReading, after: SqlReading, workers: int) -> dict[str, Any]:
    """Per service: statements by kind and rows written by kind, in all and per worker; the
    database's commits; the stack's totals per worker."""
    services: dict[str, Any] = {}
    names = [s for s in SERVICES if s in after.rows or (after.statements and s in after.statements)]
    for service in names:
        rows = _minus(after.rows.get(service, {}), before.rows.get(service, {}))
        entry: dict[str, Any] = {"rows": rows, "rows_written": sum(rows.values())}
        if after.statements is not None and before.statements is not None:
            queries = _minus(after.statements.get(service, {}), before.statements.get(service, {}))
            calls = by_kind(queries)
            entry["statements"] = calls
            entry["statements_run"] = calls["reads"] + calls["writes"]
            entry["top_statements"] = top(queries)
        entry["per_worker"] = {
            key: _per(entry[key], workers) for key in ("statements_run", "rows_written") if key in entry
        } | {f"statements_{k}": _per(v, workers) for k, v in entry.get("statements", {}).items()}
        services[service] = entry
    commits = after.commits - before.commits
    rows_written = sum(e["rows_written"] for e in services.values())
    total: dict[str, Any] = {"rows_written": _per(rows_written, workers), "commits": _per(commits, workers)}
    if after.statements is not None:
        total["statements_run"] = _per(sum(e.get("statements_run", 0) for e in services.values()), workers)
    return {
        "source": "pg_stat_statements" if after.statements is not None else "pg_stat_user_tables",
        "per_worker": total,
        "commits": commits,
        "rollbacks": after.rollbacks - before.rollbacks,
        "by_service": services,
    }
