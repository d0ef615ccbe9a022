"""The registry's batch statements read the same whatever the batch's size (issue 17, memory on a
long run): the driver keeps a prepared statement per distinct text and connection, so an IN list
or an executemany whose text grows with the batch filled those caches with large statements.
Batches of different sizes through the lookups and the projection must send the same texts, and
the projection must still write what it wrote one event at a time."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import delete, event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db import make_engine
from libs.events.contracts.common import Funder, Reason, WorkerIdentity
from libs.events.contracts.registry import WorkerNominated, WorkerRejected, WorkerValidated
from libs.events.envelope import Envelope
from libs.eventstore.postgres import PostgresStore
from services.registry.adapters.lookups import SqlLookups
from services.registry.adapters.projections import project, project_batch
from services.registry.adapters.tables import eventstore, nominations
from tests.infra import Infra
from tests.support.envelopes import envelope_of
from tests.support.stack import fresh_database

pytestmark = pytest.mark.integration

AT = datetime(2026, 3, 2, 9, tzinfo=UTC)


@pytest.fixture
async def engine(infra: Infra) -> AsyncIterator[AsyncEngine]:
    async with fresh_database(infra, "reg_texts", ["registry"]) as url:
        engine = make_engine(url)
        try:
            yield engine
        finally:
            await engine.dispose()


@contextmanager
def statements(engine: AsyncEngine) -> Iterator[set[str]]:
    """The distinct statement texts sent on `engine` inside the block."""
    seen: set[str] = set()

    def note(conn: Any, cursor: Any, text: str, params: Any, context: Any, many: bool) -> None:
        seen.add(text)

    event.listen(engine.sync_engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", note)


def decided(i: int, run: str, outcome: str) -> list[Envelope]:
    """A nomination of worker `i` and its decision (`outcome`: validated, rejected or pending)."""
    nik = f"1217{i:012d}"
    common = {"worker_id": f"w-{run}-{i}", "nomination_id": f"n-{run}-{i}", "programme_code": "P-2026"}
    place = {"regency_code": "12.17", "sector": "non_sawit", "funder": Funder.APBD_PROVINSI}
    events: list[Any] = [
        WorkerNominated(
            **common, **place, nik=nik, full_name=f"Pekerja {i}", birth_date=date(1980, 1, 1), sex="L",
            occupation="petani", channel="kafka", submitted_by="regency-12.17", source_ref=f"row-{run}-{i}",
        )
    ]  # fmt: skip
    identity = WorkerIdentity(nik=nik, full_name=f"Pekerja {i}", birth_date="1980-01-01", sex="L")
    if outcome == "validated":
        events.append(
            WorkerValidated(
                **common, **place, identity=identity, occupation="petani", decile=1, poverty_source="P3KE",
                reference_version="p3ke:v1;dtks:none", nominated_at=AT,
            )
        )  # fmt: skip
    elif outcome == "rejected":
        events.append(
            WorkerRejected(
                **common, regency_code="12.17", nik_masked="1217********0001",
                reasons=[Reason(code="NOT_IN_P3KE_OR_DTKS", message="tidak ada", details={"desil": "-"})],
                reference_version="p3ke:v1;dtks:none",
            )
        )  # fmt: skip
    return [envelope_of(e, "registry", f"worker-{common['worker_id']}") for e in events]


def batch(size: int, run: str) -> list[Envelope]:
    """Nominations of `size` workers, decided in turn validated, rejected, or not yet."""
    outcomes = ("validated", "rejected", "pending")
    return [e for i in range(size) for e in decided(i, run, outcomes[i % 3])]


async def rows(engine: AsyncEngine) -> list[Any]:
    async with engine.connect() as conn:
        found = await conn.execute(select(nominations).order_by(nominations.c.nomination_id))
        return list(found)


async def test_the_projection_of_a_batch_reads_the_same_whatever_its_size(engine: AsyncEngine) -> None:
    texts: list[set[str]] = []
    for size in (3, 7):
        with statements(engine) as seen:
            async with engine.begin() as conn:
                await project_batch(conn, batch(size, f"b{size}"))
        texts.append(seen)
    assert texts[0] == texts[1]


async def test_a_batch_projects_what_one_by_one_does(engine: AsyncEngine) -> None:
    envelopes = batch(6, "r")
    async with engine.begin() as conn:
        await project_batch(conn, envelopes)
    batched = await rows(engine)
    async with engine.begin() as conn:
        await conn.execute(delete(nominations))
    for envelope in envelopes:
        async with engine.begin() as conn:
            await project(conn, envelope)
    assert await rows(engine) == batched
    assert len(batched) == 6 and {r.status for r in batched} == {"validated", "rejected", "pending"}


async def test_the_lookups_of_a_batch_read_the_same_whatever_its_size(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await project_batch(conn, batch(4, "known"))
    store = PostgresStore(engine, eventstore, "registry")
    texts: list[set[str]] = []
    found: list[set[tuple[str, str, str]]] = []
    for size in (2, 5):
        keys = {("regency-12.17", f"row-known-{i}", "P-2026") for i in range(size)}
        keys.add(("regency-12.17", f"row-{uuid.uuid4().hex}", "P-2026"))  # never sent
        with statements(engine) as seen:
            async with store.transaction() as tx:
                lookups = SqlLookups(tx)
                facts = await lookups.worker_facts(
                    [f"w-known-{i}" for i in range(size)], date(2026, 1, 1), "P-2026"
                )
                found.append(await lookups.sent_before(keys))
        assert set(facts) == {f"w-known-{i}" for i in range(size)}
        texts.append(seen)
    assert texts[0] == texts[1]
    # Sent before: the known rows among the keys, live (none of them is withdrawn).
    assert found == [{("regency-12.17", f"row-known-{i}", "P-2026") for i in range(n)} for n in (2, 4)]
