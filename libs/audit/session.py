"""The auditor's database session: one consistent snapshot, and no way to change anything.

Every audit that only reads (verify, export, point-in-time questions, and the live side of a
replay) runs in a transaction opened with

    SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY

so PostgreSQL itself refuses any INSERT, UPDATE, DELETE or DDL through it (SQLSTATE 25006), and
every query of the run sees the same snapshot: the events, the inboxes and the read models are
compared as they stood at one instant, even while the services keep writing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

READ_ONLY_SNAPSHOT = "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"


@asynccontextmanager
async def read_only(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection inside a read-only, repeatable-read transaction; rolled back at the end."""
    async with engine.connect() as conn:
        await conn.begin()
        try:
            # Must be the transaction's first statement: later it cannot be set any more.
            await conn.execute(text(READ_ONLY_SNAPSHOT))
            yield conn
        finally:
            await conn.rollback()


def quoted(*names: str) -> str:
    """`names` as a dotted, double-quoted SQL identifier ("schema"."table")."""
    return ".".join('"' + name.replace('"', '""') + '"' for name in names)
