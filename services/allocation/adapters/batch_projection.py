"""The projection of everything one append recorded: seat events written in two statements.

A run of validated workers appends hundreds of QuotaAssigned, QuotaWaitlisted, QuotaDeclined and
QuotaUnseated at once (a decree, as many AssignmentDecreed). Written one by one, each is an
upsert plus counter updates, and the programme's counter row is updated once per event. Here a
run of such events is written as: one read of the rows' statuses before it, the net changes
worked out in memory (assignment_changes.py), and ONE statement that updates the existing rows,
inserts the new ones and moves the quota cells' and programmes' counters by their net deltas
(data-modifying CTEs, one per table, each row touched once). Every other event (a definition,
a quota or budget change, a decree's list) is projected on its own, in its place, by
`projections.project`: a decree snapshots the assignments as the events before it left them.

`projections.project` stays the event-by-event projection (audits replay through it); both write
the same rows (tests/integration/allocation/test_batch_projection.py).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import TextClause, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.db import schema_on
from libs.events import Envelope, decode
from services.allocation.adapters.assignment_changes import ROW_EVENTS, AssignmentChanges, Key
from services.allocation.adapters.projections import project
from services.allocation.adapters.tables import SCHEMA, assignments

_KEYS = ("programme_code", "worker_id")
_VALUE_COLUMNS = tuple(c.name for c in assignments.columns if c.name not in _KEYS)


@functools.cache
def _statuses_statement(schema: str) -> TextClause:
    return text(
        f'SELECT a.programme_code, a.worker_id, a.status FROM "{schema}".assignments AS a'
        " JOIN unnest(CAST(:codes AS text[]), CAST(:workers AS text[])) AS k(programme_code, worker_id)"
        " ON a.programme_code = k.programme_code AND a.worker_id = k.worker_id"
    )


async def project_batch(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
    """Project what one append recorded, in order (see the module doc)."""
    run: list[tuple[Any, datetime]] = []
    for envelope in envelopes:
        event = decode(envelope)
        if isinstance(event, ROW_EVENTS):
            run.append((event, envelope.occurred_at))
            continue
        await _write_run(conn, run)
        run = []
        await project(conn, envelope)
    await _write_run(conn, run)


async def _write_run(conn: AsyncConnection, run: list[tuple[Any, datetime]]) -> None:
    if not run:
        return
    keys = list(dict.fromkeys((event.programme_code, event.worker_id) for event, _ in run))
    changes = AssignmentChanges.over(await _statuses(conn, keys))
    for event, at in run:
        changes.apply(event, at)
    rows = [
        {
            "programme_code": code,
            "worker_id": worker,
            "is_new": change.insert,
            "set_columns": list(change.values),
        }
        | change.values
        for (code, worker), change in changes.rows.items()
    ]
    cells = [
        {"programme_code": code, "regency_code": regency, "sector": sector, "delta": delta}
        for (code, regency, sector), delta in changes.cell_deltas().items()
    ]
    programmes = [
        {"programme_code": code, "assigned": assigned, "waitlisted": waitlisted}
        for code, (assigned, waitlisted) in changes.programme_deltas().items()
    ]
    if rows or cells or programmes:
        await conn.execute(
            _write_statement(schema_on(conn, SCHEMA)),
            {"rows": _json(rows), "cells": _json(cells), "programmes": _json(programmes)},
        )


async def _statuses(conn: AsyncConnection, keys: list[Key]) -> dict[Key, str]:
    codes, workers = [code for code, _ in keys], [worker for _, worker in keys]
    found = await conn.execute(
        _statuses_statement(schema_on(conn, SCHEMA)), {"codes": codes, "workers": workers}
    )
    return {(r.programme_code, r.worker_id): r.status for r in found}


def _json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, default=_plain)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} in an assignments row")


@functools.cache
def _write_statement(schema: str) -> TextClause:
    """Existing rows updated (only the columns their events set), new rows inserted, counters
    moved: one statement, each table written once (see the module doc)."""
    dialect = cast(Any, postgresql).dialect()  # the package's dialect class is untyped
    declared = ", ".join(f'"{c}" {assignments.c[c].type.compile(dialect=dialect)}' for c in _VALUE_COLUMNS)
    kept = ", ".join(
        f'"{c}" = CASE WHEN \'{c}\' = ANY(b.set_columns) THEN b."{c}" ELSE a."{c}" END'
        for c in _VALUE_COLUMNS
    )
    listed = ", ".join(f'"{c}"' for c in _VALUE_COLUMNS)
    return text(
        f"""
        WITH b AS (
            SELECT * FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS b(
                programme_code text, worker_id text, is_new boolean, set_columns text[], {declared})
        ), updated AS (
            UPDATE "{schema}".assignments AS a SET {kept}
            FROM b
            WHERE NOT b.is_new AND a.programme_code = b.programme_code AND a.worker_id = b.worker_id
        ), inserted AS (
            INSERT INTO "{schema}".assignments (programme_code, worker_id, {listed})
            SELECT b.programme_code, b.worker_id, {", ".join(f'b."{c}"' for c in _VALUE_COLUMNS)}
            FROM b WHERE b.is_new
        ), cells AS (
            UPDATE "{schema}".quota_cells AS q SET assigned = q.assigned + d.delta
            FROM jsonb_to_recordset(CAST(:cells AS jsonb))
                AS d(programme_code text, regency_code text, sector text, delta integer)
            WHERE q.programme_code = d.programme_code AND q.regency_code = d.regency_code
                AND q.sector = d.sector
        )
        UPDATE "{schema}".programmes AS p
        SET assigned = p.assigned + d.assigned, waitlisted = p.waitlisted + d.waitlisted
        FROM jsonb_to_recordset(CAST(:programmes AS jsonb))
            AS d(programme_code text, assigned integer, waitlisted integer)
        WHERE p.programme_code = d.programme_code
        """
    )
