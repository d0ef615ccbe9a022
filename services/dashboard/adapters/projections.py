"""The dashboard's read models written in SQL: the rows a batch of consumed facts changes
(services/dashboard/domain/read_model.py), one statement per table and row shape.

`project_consumed` is the whole of the dashboard's reaction to one event (it decides nothing and
emits nothing), so an audit that replays the inbox through it rebuilds the same tables as the
live consumer, which writes the same rows a batch at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from typing import Any

from sqlalchemy import Table, bindparam, delete, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope
from libs.eventstore.ports import StoreTransaction
from libs.eventstore.postgres import PostgresTransaction
from services.dashboard.adapters.tables import eventstore, metadata, programmes, quotas
from services.dashboard.domain.consumed import fact_of
from services.dashboard.domain.read_model import KEYS, TABLES, Changes, changes_of

_INBOX = eventstore.inbox
# Replaces consumed envelopes the inbox consumer wrote in this transaction by their minimised copy.
_KEEP = (
    update(_INBOX)
    .where(_INBOX.c.event_id == bindparam("kept_id"))
    .values(envelope=bindparam("kept_envelope"))
)
_SET_CAP = (
    update(programmes)
    .where(programmes.c.programme_code == bindparam("cap_programme"))
    .values(budget_cap=bindparam("cap"))
)


@cache
def _upsert_statement(table: Table, columns: tuple[str, ...]) -> Any:
    # Built once per row shape and executed with every row of that shape (one round trip).
    # Parameters are prefixed: SQLAlchemy reserves a column's own name for its VALUES clause.
    key = KEYS[table.name]
    stmt = insert(table).values({c: bindparam(f"v_{c}", type_=table.c[c].type) for c in columns})
    settable = [c for c in columns if c not in key]
    if settable:
        return stmt.on_conflict_do_update(
            index_elements=list(key), set_={c: stmt.excluded[c] for c in settable}
        )
    return stmt.on_conflict_do_nothing(index_elements=list(key))


async def write_changes(conn: AsyncConnection, changes: Changes) -> None:
    """Write `changes` on `conn`: caps, replaced quota tables, then every table's rows."""
    if changes.caps:
        await conn.execute(_SET_CAP, [{"cap_programme": p, "cap": c} for p, c in changes.caps.items()])
    if changes.quotas_replaced:
        await conn.execute(delete(quotas).where(quotas.c.programme_code.in_(changes.quotas_replaced)))
    for name in TABLES:
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for row in changes.written(name):
            shapes.setdefault(tuple(sorted(row)), []).append({f"v_{c}": v for c, v in row.items()})
        table = metadata.tables[f"{metadata.schema}.{name}"]
        for columns, params in shapes.items():
            await conn.execute(_upsert_statement(table, columns), params)


async def keep_in_inbox(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
    """Replace the inbox rows of `envelopes` (this transaction's) by these copies."""
    if envelopes:
        await conn.execute(
            _KEEP, [{"kept_id": e.event_id, "kept_envelope": e.model_dump(mode="json")} for e in envelopes]
        )


async def project_consumed(conn: AsyncConnection, envelope: Envelope) -> None:
    """Apply one consumed event to the read models (unknown types are ignored)."""
    fact = fact_of(envelope)
    if fact is not None:
        await write_changes(conn, changes_of([(fact, envelope.occurred_at)]))


def connection_of(tx: StoreTransaction) -> AsyncConnection:
    """The SQL connection of a store transaction (the dashboard's read models live in PostgreSQL)."""
    if not isinstance(tx, PostgresTransaction):
        raise TypeError(f"the dashboard's read models need a PostgreSQL transaction, not {type(tx).__name__}")
    return tx.conn


class SqlReadModels:
    """The dashboard's read models and inbox copies in the PostgreSQL transaction of a batch."""

    async def write(self, tx: StoreTransaction, changes: Changes, kept: Sequence[Envelope]) -> None:
        """Write the batch's read-model `changes` and keep the `kept` copies in its inbox rows."""
        conn = connection_of(tx)
        await keep_in_inbox(conn, kept)
        await write_changes(conn, changes)
