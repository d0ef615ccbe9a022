"""The dashboard's read models written in SQL: the rows a batch of consumed facts changes
(services/dashboard/domain/read_model.py), one statement per table.

`project_consumed` is the whole of the dashboard's reaction to one event (it decides nothing and
emits nothing), so an audit that replays the inbox through it rebuilds the same tables as the
live consumer, which writes the same rows a batch at a time.

A batch's rows of one table differ in which columns they set (an assignment sets the quota
status, an enrolment only the enrolment): each row travels as a JSON object of the columns it
sets, and one MERGE inserts the new rows (the table's defaults where a column is not set) and
sets, on the existing ones, only the columns each row names.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, delete, update
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.db import schema_on
from libs.events import Envelope
from libs.eventstore.ports import StoreTransaction
from libs.eventstore.postgres import PostgresTransaction
from services.dashboard.adapters.merged_rows import merge_statement, rows_json
from services.dashboard.adapters.tables import eventstore, metadata, programmes, quotas
from services.dashboard.domain.consumed import fact_of
from services.dashboard.domain.read_model import KEYS, TABLES, Changes, changes_of

_INBOX = eventstore.inbox
# Replaces a parked event's inbox row, written in this transaction, by its minimised copy (the rows
# of applied events are written minimised by the consumer: DashboardReactor.inbox_copy).
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


async def write_changes(conn: AsyncConnection, changes: Changes) -> None:
    """Write `changes` on `conn`: caps, replaced quota tables, then every table's rows."""
    if changes.caps:
        await conn.execute(_SET_CAP, [{"cap_programme": p, "cap": c} for p, c in changes.caps.items()])
    if changes.quotas_replaced:
        await conn.execute(delete(quotas).where(quotas.c.programme_code.in_(changes.quotas_replaced)))
    for name in TABLES:
        rows = changes.written(name)
        if rows:
            table = metadata.tables[f"{metadata.schema}.{name}"]
            statement = merge_statement(table, KEYS[name], schema_on(conn, table.schema or "public"))
            await conn.execute(statement, {"rows": rows_json(rows)})


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


async def project_consumed_batch(conn: AsyncConnection, envelopes: Sequence[Envelope]) -> None:
    """`project_consumed` of each envelope in order, as one write of the batch's changes."""
    facts = [(fact, e.occurred_at) for e in envelopes if (fact := fact_of(e)) is not None]
    if facts:
        await write_changes(conn, changes_of(facts))


def connection_of(tx: StoreTransaction) -> AsyncConnection:
    """The SQL connection of a store transaction (the dashboard's read models live in PostgreSQL)."""
    if not isinstance(tx, PostgresTransaction):
        raise TypeError(f"the dashboard's read models need a PostgreSQL transaction, not {type(tx).__name__}")
    return tx.conn


class SqlReadModels:
    """The dashboard's read models and inbox copies in the PostgreSQL transaction of a batch."""

    async def write(self, tx: StoreTransaction, changes: Changes, kept: Sequence[Envelope]) -> None:
        """Write the batch's read-model `changes` and keep the `kept` copies in the inbox rows
        this transaction wrote for them (a parked event's)."""
        conn = connection_of(tx)
        await keep_in_inbox(conn, kept)
        await write_changes(conn, changes)
