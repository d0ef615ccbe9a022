"""Helpers of the audit tests: the CLI in a thread, declared read models, superuser tampering."""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from click.testing import Result
from sqlalchemy import Table, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from typer.testing import CliRunner

from tests.infra import drop_database as drop_database  # re-exported: the audit tests' name for it


def declared(service: str) -> Sequence[Table] | None:
    """The service's READ_MODELS when it lists them (as the CLI does)."""
    found = getattr(importlib.import_module(f"services.{service}.adapters.tables"), "READ_MODELS", None)
    return tuple(found) if found is not None else None


async def lindung(*args: str) -> Result:
    """`lindung ARGS...` through Typer's runner, in a thread (the command runs its own event loop)."""
    from lindung_cli.main import app

    return await asyncio.to_thread(CliRunner().invoke, app, list(args), catch_exceptions=False)


@asynccontextmanager
async def events_unlocked(engine: AsyncEngine, schema: str) -> AsyncIterator[AsyncConnection]:
    """A superuser transaction on `schema`.events with the append-only trigger off (then on again)."""
    async with engine.begin() as conn:
        await conn.execute(text(f"ALTER TABLE {schema}.events DISABLE TRIGGER events_append_only"))
        try:
            yield conn
        finally:
            await conn.execute(text(f"ALTER TABLE {schema}.events ENABLE TRIGGER events_append_only"))
