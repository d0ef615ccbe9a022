"""Database engines: one async engine per process, pointed at DATABASE_URL."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine


def async_url(url: str) -> str:
    """`url` with the asyncpg driver (accepts postgres://, postgresql://, postgresql+asyncpg://)."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    """`url` for the asyncpg driver through SQLAlchemy's sync facade (Alembic runs sync code)."""
    return async_url(url)


def make_engine(url: str, *, pool_size: int = 5) -> AsyncEngine:
    """An asyncpg engine with a bounded pool.

    No pre-ping: it costs a round trip per transaction (a quarter of a small append's). A
    connection broken by a database restart fails once instead, SQLAlchemy then discards the
    whole pool, and callers already treat that failure as an outage (the consumer and relay
    retry; HTTP answers 503).
    """
    return create_async_engine(async_url(url), pool_size=pool_size, max_overflow=pool_size)


def schema_on(conn: AsyncConnection, schema: str) -> str:
    """The schema `schema` is written in on `conn`: an audit replay translates a service's schema
    to a fresh one (`schema_translate_map`), which a textual statement must name itself."""
    sync = conn.sync_connection
    options = sync.get_execution_options() if sync is not None else {}
    translate = options.get("schema_translate_map") or {}
    return str(translate.get(schema, schema))
