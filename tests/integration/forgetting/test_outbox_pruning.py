"""Sent outbox rows are pruned after LINDUNG_PRIVACY_OUTBOX_RETENTION_HOURS (libs/privacy/retention.py).

Allocation runs in-process on real PostgreSQL and the package's broker; a programme goes in over
HTTP. Once its events are on the topic and their retention has passed, the outbox is empty while
the event store keeps every event and `lindung audit verify` stays green.
"""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db import make_engine
from libs.events import topics
from libs.messaging.kafka import ensure_topics
from libs.privacy.retention import (
    foreign_dead_letter_retention,
    outbox_retention,
    prune_foreign_dead_letters,
    prune_sent,
)
from libs.runtime.migrate import upgrade
from libs.runtime.service import create_app
from libs.settings import Settings, get_settings
from lindung_cli.demo import demo_programme_path
from services.allocation.adapters.tables import eventstore
from services.allocation.entrypoints.app import definition as allocation_definition
from services.registry.adapters.tables import eventstore as registry_tables
from tests.infra import Infra, create_database
from tests.integration.audit.support import drop_database, lindung
from tests.running import eventually, read_matching, running, use_env

pytestmark = pytest.mark.integration


async def _count(engine: AsyncEngine, query: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(query))).scalar_one())


def test_no_retention_or_a_broker_refilled_from_the_outbox_keeps_every_row() -> None:
    assert outbox_retention(Settings(privacy_outbox_retention_hours=0)) is None
    assert outbox_retention(Settings(privacy_outbox_retention_hours=24, republish_on_start=True)) is None
    assert outbox_retention(Settings(privacy_outbox_retention_hours=24)) == timedelta(hours=24)


async def test_sent_rows_go_after_their_retention_and_the_store_still_verifies(infra: Infra) -> None:
    name = f"lindung_prune_{uuid.uuid4().hex[:8]}"
    url = await create_database(infra.server_url, name)
    saved = dict(os.environ)
    engine = make_engine(url)
    try:
        await asyncio.to_thread(upgrade, "allocation", url)
        await ensure_topics(infra.bootstrap, [topics.ALLOCATION, topics.REGISTRY], partitions=2)
        # Kept 0.36 s after sending, looked at every 0.1 s.
        use_env(
            url,
            infra.bootstrap,
            LINDUNG_PRIVACY_OUTBOX_RETENTION_HOURS="0.0001",
            LINDUNG_PRIVACY_PRUNE_INTERVAL_S="0.1",
        )
        async with running(allocation_definition()) as rt:
            app = create_app(rt.definition)
            app.state.runtime = rt
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://a") as http:
                answer = await http.post(
                    "/programmes",
                    content=demo_programme_path().read_bytes(),
                    headers={"content-type": "application/yaml"},
                )
            assert answer.status_code == 201, answer.text
            stored = await _count(engine, "SELECT count(*) FROM allocation.events")
            assert stored > 0
            async with engine.connect() as conn:
                ids = {
                    str(i)
                    for i in (await conn.execute(text("SELECT event_id FROM allocation.events"))).scalars()
                }

            def ours(record: object) -> bool:
                return json.loads(record.value)["event_id"] in ids  # type: ignore[attr-defined]

            assert len(await read_matching(infra.bootstrap, topics.ALLOCATION, ours, len(ids))) == len(ids)

            async def pruned() -> bool:
                return await _count(engine, "SELECT count(*) FROM allocation.outbox") == 0

            await eventually(pruned)
            assert await _count(engine, "SELECT count(*) FROM allocation.events") == stored
        verified = await lindung("audit", "verify", "--schema", "allocation")
        assert verified.exit_code == 0, verified.output
    finally:
        await engine.dispose()
        await drop_database(infra.server_url, name)
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()


async def test_unsent_rows_and_rows_sent_within_the_retention_stay(infra: Infra) -> None:
    name = f"lindung_prune_{uuid.uuid4().hex[:8]}"
    url = await create_database(infra.server_url, name)
    engine = make_engine(url)
    try:
        await asyncio.to_thread(upgrade, "allocation", url)
        async with engine.begin() as conn:
            for sent in ("NULL", "now() - interval '2 hours'", "now() - interval '10 minutes'", "NULL"):
                await conn.execute(
                    text(f"INSERT INTO allocation.outbox (topic, value, sent_at) VALUES ('t', 'v', {sent})")
                )
            cut = (await conn.execute(text("SELECT now() - interval '1 hour'"))).scalar_one()
            assert await prune_sent(conn, eventstore, cut) == 1
            left = (
                await conn.execute(text("SELECT sent_at IS NULL FROM allocation.outbox ORDER BY id"))
            ).scalars()
            assert list(left) == [True, False, True]
    finally:
        await engine.dispose()
        await drop_database(infra.server_url, name)


async def test_foreign_dead_letters_go_after_their_retention_and_lindungs_own_stay(infra: Infra) -> None:
    name = f"lindung_prune_{uuid.uuid4().hex[:8]}"
    url = await create_database(infra.server_url, name)
    engine = make_engine(url)
    try:
        await asyncio.to_thread(upgrade, "registry", url)
        rows = [
            (topics.NOMINATIONS_INBOUND, "now() - interval '40 days'"),  # foreign, old: goes
            (topics.NOMINATIONS_INBOUND, "now() - interval '2 days'"),  # foreign, recent: stays
            (topics.ALLOCATION, "now() - interval '40 days'"),  # Lindung's own (sealed): stays
        ]
        async with engine.begin() as conn:
            for offset, (topic, parked) in enumerate(rows):
                await conn.execute(
                    text(
                        'INSERT INTO registry.dead_letters (topic, partition, "offset", value, error_type, '
                        f"error, attempts, parked_at) VALUES (:t, 0, :o, 'v', 'E', 'e', 1, {parked})"
                    ),
                    {"t": topic, "o": offset},
                )
            cut = (await conn.execute(text("SELECT now() - interval '30 days'"))).scalar_one()
            assert await prune_foreign_dead_letters(conn, registry_tables, cut) == 1
            left = await conn.execute(text('SELECT "offset" FROM registry.dead_letters ORDER BY id'))
            assert list(left.scalars()) == [1, 2]
        month = Settings(privacy_foreign_dead_letter_retention_days=30)
        assert foreign_dead_letter_retention(month) == timedelta(days=30)
        assert foreign_dead_letter_retention(Settings(privacy_foreign_dead_letter_retention_days=0)) is None
    finally:
        await engine.dispose()
        await drop_database(infra.server_url, name)
