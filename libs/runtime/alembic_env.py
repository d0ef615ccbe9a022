"""The body of every service's Alembic env.py: migrate one schema of the shared database."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import Connection, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from libs.db import async_url


def _database_url() -> str:
    # Migrations run as the schemas' owner, never as a service's role.
    url = (
        context.config.attributes.get("database_url")
        or os.environ.get("LINDUNG_DATABASE_OWNER_URL")
        or os.environ.get("LINDUNG_DATABASE_MIGRATION_URL")
        or os.environ.get("DATABASE_URL")
    )
    if not url:
        raise RuntimeError("LINDUNG_DATABASE_OWNER_URL (or DATABASE_URL) is not set")
    return async_url(str(url))


def _run(connection: Connection, schema: str) -> None:
    connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    context.configure(
        connection=connection,
        version_table_schema=schema,
        include_schemas=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations(schema=schema)


async def _migrate(schema: str) -> None:
    engine = create_async_engine(_database_url(), poolclass=NullPool)
    async with engine.begin() as conn:
        # Two processes migrating the same schema at once would race; serialize them.
        await conn.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": schema})
        await conn.run_sync(_run, schema)
    await engine.dispose()


def run_migrations(schema: str) -> None:
    """Entry point for env.py (online mode only: Lindung always migrates a live database)."""
    asyncio.run(_migrate(schema))
