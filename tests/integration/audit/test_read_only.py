"""The auditor changes nothing: the read-only session refuses writes, the CLI's session included."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from libs.audit.session import read_only
from lindung_cli.audit import common as audit_cli
from tests.integration.audit.conftest import AuditRun

pytestmark = pytest.mark.integration

WRITES = (
    "INSERT INTO registry.reference_versions (kind, version, rows) VALUES ('dtks', 'x', 0)",
    "UPDATE allocation.quota_cells SET assigned = 0",
    "DELETE FROM claims.claims",
    "CREATE TABLE registry.auditor_was_here (id int)",
    "SELECT nextval('bpjs_simulator.participants_seq')",
)


async def _counts(audit_run: AuditRun) -> tuple[int, ...]:
    async with audit_run.engine.connect() as conn:
        return tuple(
            (
                await conn.execute(
                    text(
                        "SELECT (SELECT count(*) FROM registry.reference_versions),"
                        " (SELECT sum(assigned) FROM allocation.quota_cells),"
                        " (SELECT count(*) FROM claims.claims)"
                    )
                )
            ).one()
        )


@pytest.mark.parametrize("statement", WRITES)
async def test_a_write_through_the_auditor_session_fails(audit_run: AuditRun, statement: str) -> None:
    before = await _counts(audit_run)
    with pytest.raises(DBAPIError, match="read-only transaction"):
        async with read_only(audit_run.engine) as conn:
            await conn.execute(text("SELECT 1"))  # reads work
            await conn.execute(text(statement))
    assert await _counts(audit_run) == before


async def test_the_session_cannot_be_switched_back_to_read_write(audit_run: AuditRun) -> None:
    with pytest.raises(DBAPIError, match="before any query"):
        async with read_only(audit_run.engine) as conn:
            await conn.execute(text("SELECT count(*) FROM registry.events"))
            await conn.execute(text("SET TRANSACTION READ WRITE"))


def test_the_cli_session_is_the_read_only_one(audit_run: AuditRun) -> None:
    # verify, export, beneficiaries, coverage and quota all run their work through this helper.
    async def write(conn):  # type: ignore[no-untyped-def]
        await conn.execute(text("UPDATE allocation.quota_cells SET assigned = 0"))

    import asyncio

    with pytest.raises(DBAPIError, match="read-only transaction"):
        asyncio.run(audit_cli.read_only(write))
