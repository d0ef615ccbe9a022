"""The bulk of a consumer batch's projection, one statement per table: a run of registration
requests, and a run of enrollments (the registrations they complete and their `enrolled` coverage
facts). Each run's rows go as one array per column (`unnest`): one parameter per column, whatever
the number of rows, and the statements name their tables as SQLAlchemy tables, so an audit replay's
schema translation reaches them.

A run names a registration at most once per statement: requests of one registration merge into the
row the requests one by one would have left, and of two enrollments of one request the later wins.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Integer,
    Text,
    Uuid,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import TypeEngine

from libs.sql_arrays import unnest_rows
from services.enrollment.adapters.tables import coverage_facts, registrations

Row = dict[str, Any]
_AT = DateTime(timezone=True)

# The columns a later attempt of a known registration sets (it keeps its first request time and status).
_RETRIED = ("attempts", "attempt_sent_at", "updated_at")
_REQUESTED: Mapping[str, TypeEngine[Any]] = {
    "worker_id": Text(),
    "programme_code": Text(),
    "request_id": Text(),
    "status": Text(),
    "attempts": Integer(),
    "funder": Text(),
    "regency_code": Text(),
    "sector": Text(),
    "nik_masked": Text(),
    "coverage_start": Date(),
    "coverage_end": Date(),
    "requested_at": _AT,
    "updated_at": _AT,
    "attempt_sent_at": _AT,
    "retry_at": _AT,
}
_ENROLLED: Mapping[str, TypeEngine[Any]] = {
    "request_id": Text(),
    "kpj": Text(),
    "enrolled_on": Date(),
    "continuing": Boolean(),
    "at": _AT,
}
_FACTS: Mapping[str, TypeEngine[Any]] = {
    "worker_id": Text(),
    "programme_code": Text(),
    "kind": Text(),
    "day": Date(),
    "coverage_start": Date(),
    "coverage_end": Date(),
    "event_id": Uuid(),
    "event_type": Text(),
}


def merged_requests(rows: Sequence[Row]) -> list[Row]:
    """One row per registration: the first request's, with what its later attempts in the run
    set on it (as their upserts one by one would have left it)."""
    merged: dict[tuple[str, str], Row] = {}
    for row in rows:
        key = (row["worker_id"], row["programme_code"])
        if key in merged:
            merged[key] |= {c: row[c] for c in _RETRIED} | {"retry_at": None}
        else:
            merged[key] = dict(row)
    return list(merged.values())


def latest_enrolments(rows: Sequence[Row]) -> list[Row]:
    """One row per request: the later of two enrollments wins, as it would one by one."""
    return list({row["request_id"]: row for row in rows}.values())


async def upsert_requested(conn: AsyncConnection, rows: Sequence[Row]) -> None:
    """A run of registration requests (attempt rows, in order) in one statement."""
    v = unnest_rows(_REQUESTED, merged_requests(rows))
    statement = insert(registrations).from_select(list(_REQUESTED), select(*(v.c[c] for c in _REQUESTED)))
    fresh = statement.excluded
    await conn.execute(
        statement.on_conflict_do_update(
            index_elements=["worker_id", "programme_code"],
            set_={"retry_at": None} | {c: fresh[c] for c in _RETRIED},
        )
    )


async def mark_enrolled(conn: AsyncConnection, rows: Sequence[Row]) -> None:
    """The registrations a run of enrollments completes, in one statement (the later of two
    enrollments of one request wins, as it would one by one)."""
    v = unnest_rows(_ENROLLED, latest_enrolments(rows))
    r = registrations
    await conn.execute(
        update(r)
        .where(r.c.request_id == v.c.request_id)
        .values(
            status="enrolled",
            kpj=v.c.kpj,
            enrolled_on=v.c.enrolled_on,
            continuing=v.c.continuing,
            retry_at=None,
            reason_code=None,
            reason=None,
            updated_at=v.c.at,
        )
    )


async def insert_facts(conn: AsyncConnection, rows: Sequence[Row]) -> None:
    """Coverage facts of a run, in order, in one statement."""
    v = unnest_rows(_FACTS, rows)
    await conn.execute(insert(coverage_facts).from_select(list(_FACTS), select(*(v.c[c] for c in _FACTS))))
