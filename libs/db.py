"""Database engines: one async engine per process, pointed at DATABASE_URL."""

from __future__ import annotations

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine


def async_url(url: str) -> str:
    """`url` with the asyncpg driver (accepts postgres://, postgresql://, postgresql+asyncpg://)."""
    parsed = make_url(url.replace("postgres://", "postgresql://", 1))
    return parsed.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


def sync_url(url: str) -> str:
    """`url` for the asyncpg driver through SQLAlchemy's sync facade (Alembic runs sync code)."""
    return async_url(url)


def make_engine(url: str, *, pool_size: int = 5) -> AsyncEngine:
    """An asyncpg engine with a bounded pool and connection health checks."""
    return create_async_engine(
        async_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
    )
