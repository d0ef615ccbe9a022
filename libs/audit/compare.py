"""Comparing a rebuilt read-model table with the live one: row counts, a content hash, the first
differing row.

Row digest: SHA-256 (computed by PostgreSQL) of the row as `jsonb` text without its volatile
columns. `jsonb` text is canonical (keys ordered, one spelling per value), so two rows with the
same content have the same digest whatever their physical order or the connection that wrote them.

Table content hash: SHA-256 of the sorted row digests (lowercase hex) joined by "\\n": independent
of row order. Two tables match when row counts and content hashes are equal.

Volatile columns: those whose value records when or in which order rows were written rather than
what the events say, so a rebuild cannot reproduce them: a server default of the current time
(`now()`, `CURRENT_TIMESTAMP`: e.g. registry.programmes.updated_at, which the projector leaves to
the database) and identity/sequence-generated columns. They are listed in the report.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from sqlalchemy import Column, Sequence, Table, text
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.audit.session import quoted

DifferenceKind = Literal["missing_in_replay", "extra_in_replay", "differs"]


@dataclass(frozen=True)
class RowDifference:
    """The first row that differs, named by its primary key."""

    key: dict[str, Any]
    kind: DifferenceKind
    columns: tuple[str, ...] = ()

    def describe(self) -> str:
        key = ", ".join(f"{k}={v!r}" for k, v in self.key.items())
        if self.kind == "differs":
            return f"({key}) differs in {', '.join(self.columns)}"
        return f"({key}) {self.kind.replace('_', ' ')}"


@dataclass(frozen=True)
class TableComparison:
    """One read-model table, live against rebuilt."""

    table: str
    live_rows: int
    replay_rows: int
    live_hash: str
    replay_hash: str
    volatile: tuple[str, ...] = ()
    differing_rows: int = 0
    first_difference: RowDifference | None = None

    @property
    def matches(self) -> bool:
        return self.live_rows == self.replay_rows and self.live_hash == self.replay_hash


@dataclass(frozen=True)
class TableDigest:
    """Row digests of one table, keyed by primary key (in primary-key order)."""

    rows: dict[str, str] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        return content_hash(self.rows.values())


def content_hash(row_digests: Iterable[str]) -> str:
    """SHA-256 of the sorted row digests joined by newlines (order-independent)."""
    return hashlib.sha256("\n".join(sorted(row_digests)).encode()).hexdigest()


def _is_volatile(column: Column[Any]) -> bool:
    if column.identity is not None or isinstance(column.default, Sequence):
        return True
    default = column.server_default
    if default is None:
        return False
    spelled = str(getattr(default, "arg", default)).lower()
    return "now()" in spelled or "current_timestamp" in spelled


def volatile_columns(table: Table, extra: Iterable[str] = ()) -> tuple[str, ...]:
    """The columns left out of row digests (see the module doc), plus `extra`."""
    return tuple(sorted({c.name for c in table.columns if _is_volatile(c)} | set(extra)))


def _key_columns(table: Table) -> list[str]:
    return [c.name for c in table.primary_key.columns] or [c.name for c in table.columns]


def _row_json(volatile: tuple[str, ...]) -> str:
    if not volatile:
        return "to_jsonb(t)"
    names = ", ".join("'" + v.replace("'", "''") + "'" for v in volatile)
    return f"(to_jsonb(t) - ARRAY[{names}]::text[])"


async def table_digest(
    conn: AsyncConnection, schema: str, table: Table, volatile: tuple[str, ...]
) -> TableDigest:
    """Row digests of `schema`.`table` (the table's own schema is ignored: rebuilt copies too)."""
    keys = _key_columns(table)
    key_sql = "jsonb_build_array(" + ", ".join(f"t.{quoted(k)}" for k in keys) + ")::text"
    order = ", ".join(f"t.{quoted(k)}" for k in keys)
    sql = (
        f"SELECT {key_sql} AS k, "
        f"encode(sha256(convert_to({_row_json(volatile)}::text, 'UTF8')), 'hex') AS d "
        f"FROM {quoted(schema, table.name)} AS t ORDER BY {order}"
    )
    rows = await conn.execute(text(sql))
    return TableDigest({r.k: r.d for r in rows})


async def _row(
    conn: AsyncConnection, schema: str, table: Table, key: str, volatile: tuple[str, ...]
) -> dict[str, Any]:
    keys = _key_columns(table)
    key_sql = "jsonb_build_array(" + ", ".join(f"t.{quoted(k)}" for k in keys) + ")::text"
    sql = (
        f"SELECT {_row_json(volatile)}::text AS j FROM {quoted(schema, table.name)} AS t WHERE {key_sql} = :k"
    )
    found = (await conn.execute(text(sql), {"k": key})).scalar_one_or_none()
    return dict(json.loads(found)) if found else {}


def _key_dict(table: Table, key: str) -> dict[str, Any]:
    return dict(zip(_key_columns(table), json.loads(key), strict=True))


async def compare_table(
    table: Table,
    *,
    live: tuple[AsyncConnection, str],
    replay: tuple[AsyncConnection, str],
    extra_volatile: Iterable[str] = (),
) -> TableComparison:
    """Compare `table` in the live schema with its rebuilt copy (each read on its own connection)."""
    volatile = volatile_columns(table, extra_volatile)
    live_conn, live_schema = live
    replay_conn, replay_schema = replay
    a = await table_digest(live_conn, live_schema, table, volatile)
    b = await table_digest(replay_conn, replay_schema, table, volatile)
    differing: list[str] = []
    extra: list[str] = []
    # Equal contents are a match even when rows sit under other keys (a primary key drawn from a
    # sequence is volatile: a rebuild numbers rows anew), so rows are only paired up to name
    # the first difference of tables that differ.
    if a.content_hash != b.content_hash or len(a.rows) != len(b.rows):
        differing = [k for k, d in a.rows.items() if b.rows.get(k) != d]
        extra = [k for k in b.rows if k not in a.rows]
    first: RowDifference | None = None
    if differing:
        key = differing[0]
        if key not in b.rows:
            first = RowDifference(_key_dict(table, key), "missing_in_replay")
        else:
            before = await _row(live_conn, live_schema, table, key, volatile)
            after = await _row(replay_conn, replay_schema, table, key, volatile)
            columns = tuple(sorted(c for c in before.keys() | after.keys() if before.get(c) != after.get(c)))
            first = RowDifference(_key_dict(table, key), "differs", columns)
    elif extra:
        first = RowDifference(_key_dict(table, extra[0]), "extra_in_replay")
    return TableComparison(
        table=table.name,
        live_rows=len(a.rows),
        replay_rows=len(b.rows),
        live_hash=a.content_hash,
        replay_hash=b.content_hash,
        volatile=volatile,
        differing_rows=len(differing) + len(extra),
        first_difference=first,
    )
