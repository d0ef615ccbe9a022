"""`lindung bench eventstore`: our event store against the `eventsourcing` library's PostgreSQL
recorder, on the same database, with the same payloads and the same events per transaction.

Ours is written as every service writes: a decider (a small one of the bench's own) run by the
stream kit (libs/eventstore/kit.py) on the PostgreSQL store, a transaction per command.
Measured: append rate, read rate (whole streams) and the read-model rebuild rate (the registry's
projection of every stored event into a fresh schema, in batches). Nothing here is asserted: the
numbers go to bench/results/ and the README.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from rich.progress import Progress
from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db import make_engine
from libs.events.contracts.common import Funder
from libs.events.contracts.registry import WorkerNominated
from libs.eventstore.decider import Decider
from libs.eventstore.kit import Origin, StreamKit
from libs.eventstore.migration import create_eventstore
from libs.eventstore.postgres import PostgresStore
from libs.eventstore.store import row_to_envelope
from libs.eventstore.tables import eventstore_tables


@dataclass
class EventStoreResult:
    events: int
    events_per_transaction: int
    payload_bytes: int
    lindung_append_per_s: float
    peer_append_per_s: float
    lindung_read_per_s: float
    peer_read_per_s: float
    rebuild_per_s: float

    @property
    def append_ratio(self) -> float:
        return self.lindung_append_per_s / self.peer_append_per_s


def nomination(i: int) -> WorkerNominated:
    """A realistic registry event (about 600 bytes of JSON)."""
    return WorkerNominated(
        worker_id=str(uuid.UUID(int=i)),
        nomination_id=str(uuid.uuid4()),
        programme_code="BENCH-2026",
        nik=f"1217{(i % 20) + 1:02d}0101{90 + i % 9}{(i % 9999) + 1:04d}"[:16].ljust(16, "1"),
        full_name=f"Pekerja Rentan {i}",
        birth_date=date(1980 + i % 20, 1 + i % 12, 1 + i % 28),
        sex="L" if i % 2 else "P",
        occupation="petani",
        regency_code="12.17",
        kecamatan="Pangururan",
        desa="Lumban Suhi Suhi",
        address="Jl. Danau Toba No. 1",
        phone="081234567890",
        sector="non_sawit",
        decile=1 + i % 2,
        funder=Funder.APBD_PROVINSI,
        channel="upload",
        submitted_by="bench",
    )


@dataclass(frozen=True)
class Record:
    """The bench's one command: record these nominations in this stream."""

    stream_id: str
    events: tuple[WorkerNominated, ...]


# A stream kind of the bench's own: its state is how many events it holds, and a command records
# its events whatever the state (the bench measures the store, not a rule).
BENCH_STREAM: Decider[Record, int] = Decider(
    kind="bench-worker",
    initial=0,
    evolve=lambda count, _recorded: count + 1,
    decide=lambda command, _count: list(command.events),
    stream_of=lambda command: command.stream_id,
)


async def _lindung(
    engine: AsyncEngine, schema: str, events: list[WorkerNominated], per_tx: int, progress: Progress
) -> tuple[float, float, float, PostgresStore]:
    metadata = MetaData()
    tables = eventstore_tables(metadata, schema)
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        await conn.run_sync(create_eventstore, schema)
    store = PostgresStore(engine, tables, "bench")
    kit = StreamKit(store)
    task = progress.add_task("Lindung append", total=len(events))
    started = time.perf_counter()
    for start in range(0, len(events), per_tx):
        chunk = events[start : start + per_tx]
        command = Record(f"worker-{chunk[0].worker_id}", tuple(chunk))
        await kit.run(BENCH_STREAM, [command], origin=Origin.new())
        progress.advance(task, len(chunk))
    append_rate = len(events) / (time.perf_counter() - started)
    streams = [f"worker-{events[s].worker_id}" for s in range(0, len(events), per_tx)]
    task = progress.add_task("Lindung read", total=len(streams))
    started = time.perf_counter()
    read = 0
    async with store.transaction() as tx:
        for stream in streams:
            read += len((await tx.load([stream]))[stream].recorded)
            progress.advance(task)
    read_rate = read / (time.perf_counter() - started)
    rebuild_rate = await _rebuild(engine, tables, len(events), progress)
    return append_rate, read_rate, rebuild_rate, store


async def _rebuild(engine: AsyncEngine, tables: Any, total: int, progress: Progress) -> float:
    """Project every stored event with the registry's batch projection into a fresh schema."""
    from services.registry.adapters.projections import project_batch
    from services.registry.adapters.tables import SCHEMA, metadata, nominations

    target = f"bench_rebuild_{uuid.uuid4().hex[:8]}"
    async with engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA "{target}"'))
        translated = await conn.execution_options(schema_translate_map={SCHEMA: target})
        await translated.run_sync(lambda c: metadata.create_all(c, tables=[nominations]))
    task = progress.add_task("Rebuild read model", total=total)
    started = time.perf_counter()
    last = 0
    async with engine.connect() as reader:
        while True:
            rows = (
                await reader.execute(
                    select(tables.events)
                    .where(tables.events.c.position > last)
                    .order_by(tables.events.c.position)
                    .limit(5000)
                )
            ).all()
            if not rows:
                break
            async with engine.begin() as conn:
                translated = await conn.execution_options(schema_translate_map={SCHEMA: target})
                await project_batch(translated, [row_to_envelope(row) for row in rows])
            last = rows[-1].position
            progress.advance(task, len(rows))
    rate = total / (time.perf_counter() - started)
    async with engine.begin() as conn:
        await conn.execute(text(f'DROP SCHEMA "{target}" CASCADE'))
    return rate


def _peer(
    url: str, schema: str, events: list[WorkerNominated], per_tx: int, progress: Progress
) -> tuple[float, float]:
    from eventsourcing.persistence import StoredEvent
    from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore

    parsed = make_url(url)
    datastore = PostgresDatastore(
        dbname=parsed.database or "postgres",
        host=parsed.query.get("host") or parsed.host or "127.0.0.1",  # type: ignore[arg-type]
        port=parsed.port or 5432,
        user=parsed.username or "postgres",
        password=parsed.password or "",
        schema=schema,
        originator_id_type="text",
    )
    recorder = PostgresApplicationRecorder(datastore)
    with datastore.get_connection() as conn, conn.cursor() as curs:
        curs.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    recorder.create_table()
    topic = "libs.events.contracts.registry:WorkerNominated"
    task = progress.add_task("Peer append", total=len(events))
    started = time.perf_counter()
    for start in range(0, len(events), per_tx):
        chunk = events[start : start + per_tx]
        stream = f"worker-{chunk[0].worker_id}"
        recorder.insert_events(
            [
                StoredEvent(
                    originator_id=stream,
                    originator_version=v + 1,
                    topic=topic,
                    state=e.model_dump_json().encode(),
                )
                for v, e in enumerate(chunk)
            ]
        )
        progress.advance(task, len(chunk))
    append_rate = len(events) / (time.perf_counter() - started)
    streams = [f"worker-{events[s].worker_id}" for s in range(0, len(events), per_tx)]
    task = progress.add_task("Peer read", total=len(streams))
    started = time.perf_counter()
    read = 0
    for stream in streams:
        read += len(recorder.select_events(stream))
        progress.advance(task)
    read_rate = read / (time.perf_counter() - started)
    datastore.close()
    return append_rate, read_rate


async def run(url: str, count: int, per_tx: int) -> EventStoreResult:
    """Both stores on the same database, one after the other (never concurrently)."""
    events = [nomination(i) for i in range(count)]
    suffix = uuid.uuid4().hex[:8]
    ours, peers = f"bench_lindung_{suffix}", f"bench_peer_{suffix}"
    engine = make_engine(url, pool_size=2)
    try:
        with Progress() as progress:
            append, read, rebuild, _ = await _lindung(engine, ours, events, per_tx, progress)
            peer_append, peer_read = await asyncio.to_thread(_peer, url, peers, events, per_tx, progress)
    finally:
        async with engine.begin() as conn:
            for schema in (ours, peers):
                await conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        await engine.dispose()
    return EventStoreResult(
        events=count,
        events_per_transaction=per_tx,
        payload_bytes=len(events[0].model_dump_json()),
        lindung_append_per_s=append,
        peer_append_per_s=peer_append,
        lindung_read_per_s=read,
        peer_read_per_s=peer_read,
        rebuild_per_s=rebuild,
    )


def as_json(result: EventStoreResult) -> str:
    return json.dumps({**asdict(result), "append_ratio": result.append_ratio}, indent=2)
