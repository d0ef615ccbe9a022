"""The one statement that appends events and queues them in the outbox.

Events and their outbox rows go in together as arrays (`unnest`): one round trip and one
prepared statement whatever the number of events. Profiles of enrollment and the BPJS simulator
showed them waiting on PostgreSQL round trips for more than half of their time, so the two
INSERTs of an append became one (a data-modifying CTE runs even though nothing reads it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from sqlalchemy import TextClause, text

from libs.eventstore.tables import EventStoreTables

_EVENT_COLUMNS = (
    ("event_id", "uuid"),
    ("aggregate_id", "text"),
    ("aggregate_version", "int"),
    ("event_type", "text"),
    ("schema_version", "int"),
    ("occurred_at", "timestamptz"),
    ("correlation_id", "uuid"),
    ("causation_id", "uuid"),
    ("producer", "text"),
    ("payload", "jsonb"),
    ("prev_hash", "text"),
    ("hash", "text"),
)
_OUTBOX_COLUMNS = (
    ("event_id", "uuid"),
    ("topic", "text"),
    ("key", "bytea"),
    ("value", "bytea"),
    ("headers", "jsonb"),
)


def _unnest(prefix: str, columns: Sequence[tuple[str, str]], alias: str) -> tuple[str, str]:
    # jsonb travels as text and is cast per row: asyncpg has no codec for jsonb[] arrays here.
    arrays = ", ".join(
        f"CAST(:{prefix}{name} AS {'text' if kind == 'jsonb' else kind}[])" for name, kind in columns
    )
    picked = ", ".join(
        f"{alias}.{name}::jsonb" if kind == "jsonb" else f"{alias}.{name}" for name, kind in columns
    )
    names = ", ".join(name for name, _ in columns)
    # WITH ORDINALITY + ORDER BY: identity values (event position, outbox id) follow the order.
    source = f"unnest({arrays}) WITH ORDINALITY AS {alias}({names}, ord)"
    return picked, f"FROM {source} ORDER BY {alias}.ord"


@cache
def append_statement(tables: EventStoreTables) -> TextClause:
    """INSERT events + outbox rows of `tables` in one statement, from column arrays."""
    schema = tables.events.schema
    events_at = f'"{schema}".events' if schema else "events"
    outbox_at = f'"{schema}".outbox' if schema else "outbox"
    event_pick, event_from = _unnest("e_", _EVENT_COLUMNS, "e")
    outbox_pick, outbox_from = _unnest("o_", _OUTBOX_COLUMNS, "o")
    event_names = ", ".join(name for name, _ in _EVENT_COLUMNS)
    outbox_names = ", ".join(name for name, _ in _OUTBOX_COLUMNS)
    return text(
        f"WITH appended AS (INSERT INTO {events_at} ({event_names}) SELECT {event_pick} {event_from}) "
        f"INSERT INTO {outbox_at} ({outbox_names}) SELECT {outbox_pick} {outbox_from}"
    )


def append_parameters(
    event_rows: Sequence[dict[str, Any]],
    outbox_rows: Sequence[dict[str, Any]],
    json_texts: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, list[Any]]:
    """The column arrays `append_statement` takes, from row dicts as `insert()` would take them.

    `json_texts` gives jsonb columns already written as JSON text, one per row, by parameter
    name (`e_payload`, `o_headers`): passed as they are instead of serialised again."""
    written = json_texts or {}
    params: dict[str, list[Any]] = {}
    for prefix, columns, rows in (("e_", _EVENT_COLUMNS, event_rows), ("o_", _OUTBOX_COLUMNS, outbox_rows)):
        for name, kind in columns:
            texts = written.get(f"{prefix}{name}")
            if texts is not None:
                params[f"{prefix}{name}"] = list(texts)
                continue
            values = [row.get(name) for row in rows]
            if kind == "jsonb":
                values = [None if v is None else json.dumps(v, ensure_ascii=False) for v in values]
            params[f"{prefix}{name}"] = values
    return params
