"""Replay rate on a larger synthetic stream (no timed assertion: the rate is printed).

The registry's own projector over WorkerNominated + WorkerValidated pairs appended with the
PostgresStore (projected live in the same transaction, as the service does). 4,000 events by
default; `LINDUNG_AUDIT_BENCH_EVENTS=100000 pytest tests/integration/audit/test_replay_rate.py -s`
for the large run.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from datetime import date

import pytest

from libs.audit.replay import replay
from libs.db import make_engine
from libs.events.contracts.common import Funder, WorkerIdentity
from libs.events.contracts.registry import WorkerNominated, WorkerValidated
from libs.events.envelope import utcnow
from libs.runtime.definition import stream_store_of
from libs.runtime.migrate import upgrade
from services.registry.adapters.tables import READ_MODELS
from services.registry.entrypoints.app import definition
from tests.infra import Infra, create_database
from tests.integration.audit.support import drop_database
from tests.support.appending import append

pytestmark = pytest.mark.integration

EVENTS = int(os.environ.get("LINDUNG_AUDIT_BENCH_EVENTS", "4000"))
PER_TRANSACTION = 250  # workers (two events each) per appending transaction


def _pair(i: int) -> tuple[str, list[WorkerNominated | WorkerValidated]]:
    nik = f"1217{i:012d}"
    worker_id, nomination_id = str(uuid.uuid4()), str(uuid.uuid4())
    regency = ("12.17", "12.05", "12.71", "12.78")[i % 4]
    sector = "sawit" if i % 3 else "non_sawit"
    common = {"worker_id": worker_id, "nomination_id": nomination_id, "programme_code": "BENCH-2026"}
    nominated = WorkerNominated(
        **common,
        nik=nik,
        full_name=f"Pekerja {i}",
        birth_date=date(1980, 1, 1),
        sex="L",
        occupation="petani",
        regency_code=regency,
        sector=sector,
        funder=Funder.APBD_PROVINSI,
        channel="cli",
        submitted_by="bench",
    )
    validated = WorkerValidated(
        **common,
        identity=WorkerIdentity(nik=nik, full_name=f"Pekerja {i}", birth_date="1980-01-01", sex="L"),
        occupation="petani",
        regency_code=regency,
        sector=sector,
        decile=1 + i % 2,
        funder=Funder.APBD_PROVINSI,
        poverty_source="P3KE",
        reference_version="p3ke-bench",
        nominated_at=utcnow(),
    )
    return f"worker-{worker_id}", [nominated, validated]


async def test_replay_rate_on_a_synthetic_stream(infra: Infra) -> None:
    name = f"lindung_audit_bench_{uuid.uuid4().hex[:8]}"
    url = await create_database(infra.server_url, name)
    await asyncio.to_thread(upgrade, "registry", url)
    registry = definition()
    engine = make_engine(url)
    store = stream_store_of(registry, engine, None)
    try:
        started = time.perf_counter()
        workers = EVENTS // 2
        for first in range(0, workers, PER_TRANSACTION):
            async with store.transaction() as tx:
                for i in range(first, min(first + PER_TRANSACTION, workers)):
                    stream, events = _pair(i)
                    await append(tx, stream, events)
        appended = time.perf_counter() - started
        report = await replay(engine, registry, read_models=READ_MODELS)
        assert report.matches and report.own_events == workers * 2
        nominations = next(t for t in report.tables if t.table == "nominations")
        assert nominations.live_rows == workers
        print(
            f"\nsynthetic registry stream: {report.own_events} events appended in {appended:.1f} s "
            f"({report.own_events / appended:,.0f}/s with live projection); replayed in "
            f"{report.seconds:.1f} s = {report.events_per_second:,.0f} events/s"
        )
    finally:
        await engine.dispose()
        await drop_database(infra.server_url, name)
