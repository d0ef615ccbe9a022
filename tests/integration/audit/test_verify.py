"""Tamper evidence: rows edited or deleted directly in PostgreSQL are named by stream and version.

Each test disables the append-only trigger as a superuser, tampers, re-enables it, checks what
`verify` reports, then puts the original rows back and checks that every chain verifies again.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import text

from libs.audit.chain import verify_chains
from libs.audit.session import read_only
from libs.eventstore.hashing import chain_hash
from libs.eventstore.store import row_to_envelope
from libs.runtime.migrate import SERVICES_WITH_SCHEMAS
from tests.integration.audit.conftest import DEMO, AuditRun
from tests.integration.audit.support import events_unlocked, lindung

pytestmark = pytest.mark.integration


async def _verify(audit_run: AuditRun) -> Any:
    async with read_only(audit_run.engine) as conn:
        return await verify_chains(conn)


@pytest.fixture
async def clean(audit_run: AuditRun) -> AsyncIterator[None]:
    """Every chain verifies before the test and again after it has put things back."""
    assert (await _verify(audit_run)).ok
    yield
    report = await _verify(audit_run)
    assert report.ok, [b.describe() for b in report.breaks]


COLUMNS = (
    "position, event_id, aggregate_id, aggregate_version, event_type, schema_version, occurred_at, "
    "recorded_at, correlation_id, causation_id, producer, payload, prev_hash, hash"
)


async def _row(audit_run: AuditRun, schema: str, where: str, **params: Any) -> Any:
    """One stored event, its payload as JSON text (to put it back exactly)."""
    sql = (
        f"SELECT {COLUMNS.replace('payload', 'payload::text AS payload')} FROM {schema}.events WHERE {where}"
    )
    async with audit_run.engine.connect() as conn:
        return (await conn.execute(text(sql), params)).one()


async def _consumers(audit_run: AuditRun, event_id: Any) -> int:
    """How many services keep a consumed copy of the event in their inbox."""
    held = 0
    async with audit_run.engine.connect() as conn:
        for schema in SERVICES_WITH_SCHEMAS:
            query = text(f"SELECT count(*) FROM {schema}.inbox WHERE event_id = :e")
            held += (await conn.execute(query, {"e": event_id})).scalar_one()
    return held


async def _put_back(audit_run: AuditRun, schema: str, row: Any) -> None:
    values = ", ".join(f"CAST(:{c} AS jsonb)" if c == "payload" else f":{c}" for c in COLUMNS.split(", "))
    async with events_unlocked(audit_run.engine, schema) as conn:
        await conn.execute(text(f"DELETE FROM {schema}.events WHERE position = :p"), {"p": row.position})
        await conn.execute(
            text(f"INSERT INTO {schema}.events ({COLUMNS}) OVERRIDING SYSTEM VALUE VALUES ({values})"),
            dict(row._mapping),
        )


async def test_the_run_verifies_and_every_copy_is_checked(audit_run: AuditRun) -> None:
    report = await _verify(audit_run)
    assert report.ok, [b.describe() for b in report.breaks]
    assert set(report.events) >= set(SERVICES_WITH_SCHEMAS)  # every schema with an event store
    for schema in ("registry", "allocation", "enrollment", "claims", "bpjs_simulator"):  # producers
        assert report.events[schema] > 0 and report.streams[schema] > 0
        assert report.copies[schema] > 0  # outbox copies, plus inbox copies held by consumers


async def test_an_edited_payload_is_named_with_its_stream_and_version(
    audit_run: AuditRun, clean: None
) -> None:
    stream = f"programme-{DEMO}"
    row = await _row(audit_run, "allocation", "aggregate_id = :s AND aggregate_version = 10", s=stream)
    assert row.event_type == "QuotaAssigned"
    async with events_unlocked(audit_run.engine, "allocation") as conn:
        await conn.execute(
            text(
                "UPDATE allocation.events SET payload = jsonb_set(payload, '{regency_code}', '\"12.01\"')"
                " WHERE position = :p"
            ),
            {"p": row.position},
        )
    try:
        report = await _verify(audit_run)
        found = {(b.schema, b.stream, b.version, b.kind) for b in report.breaks}
        assert (("allocation", stream, 10, "hash_mismatch")) in found
        assert ("allocation", stream, 10, "outbox_copy_differs") in found
        assert ("allocation", stream, 10, "consumer_copy_differs") in found  # enrollment's inbox
        assert {b.schema for b in report.breaks} == {"allocation"}
        result = await lindung("audit", "verify")
        assert result.exit_code == 1
        assert stream in result.output and "version 10" in result.output
    finally:
        await _put_back(audit_run, "allocation", row)


async def test_a_deleted_event_is_named_as_missing(audit_run: AuditRun, clean: None) -> None:
    row = await _row(
        audit_run,
        "registry",
        "event_type = 'WorkerNominated' AND aggregate_version = 1 AND schema_version = 2 "
        "ORDER BY position LIMIT 1",
    )
    consumers = await _consumers(audit_run, row.event_id)  # those that keep WorkerNominated
    async with events_unlocked(audit_run.engine, "registry") as conn:
        await conn.execute(text("DELETE FROM registry.events WHERE position = :p"), {"p": row.position})
    try:
        report = await _verify(audit_run)
        found = sorted((b.schema, b.stream, b.version, b.kind) for b in report.breaks)
        assert found == sorted(
            [
                ("registry", row.aggregate_id, 2, "missing_versions"),  # the chain: 2 follows nothing
                ("registry", row.aggregate_id, 1, "outbox_event_missing"),  # the published copy remains
            ]
            + [("registry", row.aggregate_id, 1, "consumer_event_missing")] * consumers
        )
    finally:
        await _put_back(audit_run, "registry", row)


async def test_a_deleted_last_event_is_found_through_its_copies(audit_run: AuditRun, clean: None) -> None:
    # Nothing follows the last event of a stream, so its chain cannot tell; its copies can.
    row = await _row(audit_run, "enrollment", "event_type = 'EnrolledAtBPJS' ORDER BY position DESC LIMIT 1")
    consumers = await _consumers(audit_run, row.event_id)
    assert consumers >= 2  # registry and claims keep a copy of every EnrolledAtBPJS
    async with events_unlocked(audit_run.engine, "enrollment") as conn:
        await conn.execute(text("DELETE FROM enrollment.events WHERE position = :p"), {"p": row.position})
    try:
        report = await _verify(audit_run)
        kinds = sorted(b.kind for b in report.breaks if b.stream == row.aggregate_id)
        assert kinds == ["consumer_event_missing"] * consumers + ["outbox_event_missing"]
        assert {b.version for b in report.breaks} == {row.aggregate_version}
    finally:
        await _put_back(audit_run, "enrollment", row)


async def test_a_forged_row_with_a_recomputed_hash_breaks_the_next_link(
    audit_run: AuditRun, clean: None
) -> None:
    stream = f"programme-{DEMO}"
    row = await _row(audit_run, "allocation", "aggregate_id = :s AND aggregate_version = 20", s=stream)
    payload = json.loads(row.payload)
    payload["sector"] = "non_sawit" if payload["sector"] == "sawit" else "sawit"
    forged = row_to_envelope(SimpleNamespace(**{**row._mapping, "payload": payload}))
    async with events_unlocked(audit_run.engine, "allocation") as conn:
        await conn.execute(
            text("UPDATE allocation.events SET payload = CAST(:j AS jsonb), hash = :h WHERE position = :p"),
            {"j": json.dumps(payload), "h": chain_hash(row.prev_hash, forged), "p": row.position},
        )
    try:
        report = await _verify(audit_run)
        found = {(b.stream, b.version, b.kind) for b in report.breaks}
        assert (stream, 20, "hash_mismatch") not in found  # the forger recomputed it
        assert (stream, 21, "broken_link") in found
        assert (stream, 20, "outbox_copy_differs") in found
    finally:
        await _put_back(audit_run, "allocation", row)
