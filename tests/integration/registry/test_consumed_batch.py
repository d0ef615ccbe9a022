"""Allocation's and enrollment's replies projected a batch at a time on PostgreSQL leave the
registry's seats and BPJS participants exactly as the same events one at a time do
(adapters/consumed_projections.py), and as the one-payer rules say (domain/one_payer.py)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db import make_engine
from libs.events.contracts.allocation import (
    AssignmentDecreed,
    QuotaAssigned,
    QuotaDeclined,
    QuotaReleased,
    QuotaWaitlisted,
)
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.common import Funder, WorkerIdentity
from libs.events.contracts.enrollment import CoverageEnded, EnrolledAtBPJS, EnrollmentFailed
from libs.events.envelope import Envelope
from services.registry.adapters.consumed_projections import project_consumed, project_consumed_batch
from services.registry.adapters.tables import nominations, participants
from tests.infra import Infra
from tests.support.envelopes import envelope_of
from tests.support.stack import fresh_database

PROGRAMMES = ("PROV-2026", "KAB-2026")
WORKERS = [f"w{i}" for i in range(8)]
IDENTITY = WorkerIdentity(
    nik="1217051708850042", full_name="Rudolf Simbolon", birth_date="1985-08-17", sex="L"
)
YEAR = {"coverage_start": date(2026, 1, 1), "coverage_end": date(2026, 12, 31)}
SECTOR = {"sector": "non_sawit"}


def nomination_id(worker: str, programme: str) -> str:
    return f"n-{worker}-{programme}"


def rows() -> list[dict[str, Any]]:
    """Each worker nominated in both programmes: validated, except w7's second, pending."""
    at = datetime(2026, 3, 2, tzinfo=UTC)
    fixed = {"nik": "x", "full_name": "x", "sex": "L", "occupation": "nelayan", "kecamatan": "k", "desa": "d"}
    return [
        {
            "nomination_id": nomination_id(w, p),
            "worker_id": w,
            "programme_code": p,
            "funder": "APBD_PROVINSI",
            "channel": "http",
            "status": "pending" if (w, p) == ("w7", PROGRAMMES[1]) else "validated",
            "nominated_at": at,
            "updated_at": at,
            "regency_code": "12.17",
            "sector": "non_sawit",
            **fixed,
        }
        for w in WORKERS
        for p in PROGRAMMES
    ]


def reply(kind: str, worker: str, programme: str, n: int) -> DomainEvent:
    """One of allocation's or enrollment's replies about `worker` in `programme`."""
    named = {"worker_id": worker, "programme_code": programme, "regency_code": "12.17"}
    nominated = {**named, **SECTOR, "nomination_id": nomination_id(worker, programme)}
    if kind == "assigned":
        return QuotaAssigned(
            **nominated, funder=Funder.APBD_PROVINSI, decile=1, identity=IDENTITY, premium_per_month=16_800,
            requires_decree=False, **YEAR,
        )  # fmt: skip
    if kind == "waitlisted":
        return QuotaWaitlisted(
            **nominated,
            decile=1,
            identity=IDENTITY,
            nomination_seq=n,
            decree_round=0,
            position=1,
            reason="no_seat",
        )
    if kind == "declined":
        other = PROGRAMMES[1 - PROGRAMMES.index(programme)]
        return QuotaDeclined(**nominated, reason="held_by_other_programme", held_by=other)
    if kind == "released":
        return QuotaReleased(**named, **SECTOR, reason="withdrawn")
    if kind == "decreed":
        return AssignmentDecreed(
            **named,
            **SECTOR,
            decree_number=f"SK-{n}",
            funder=Funder.APBD_PROVINSI,
            identity=IDENTITY,
            premium_per_month=16_800,
            **YEAR,
        )
    if kind == "enrolled":
        return EnrolledAtBPJS(
            **named, funder=Funder.APBD_PROVINSI, kpj=f"KPJ-{n}", request_id=f"r{n}", **YEAR
        )
    if kind == "failed":
        return EnrollmentFailed(**named, request_id=f"r{n}", reason_code="X", reason="ditolak")
    return CoverageEnded(
        **named, funder=Funder.APBD_PROVINSI, kpj=f"KPJ-{n}", ended_on=date(2026, 6, 30), reason="withdrawn"
    )


KINDS = ("assigned", "waitlisted", "declined", "released", "decreed", "enrolled", "failed", "ended")


async def state(engine: AsyncEngine) -> tuple[list[Any], list[Any]]:
    async with engine.connect() as conn:
        seats = await conn.execute(
            select(nominations.c.nomination_id, nominations.c.seat, nominations.c.held_by).order_by(
                nominations.c.nomination_id
            )
        )
        members = await conn.execute(select(participants).order_by(participants.c.worker_id))
        return [tuple(r) for r in seats], [tuple(r) for r in members]


@pytest.fixture
async def engines(infra: Infra) -> AsyncIterator[tuple[AsyncEngine, AsyncEngine]]:
    async with (
        fresh_database(infra, "reg_one", ["registry"]) as one_url,
        fresh_database(infra, "reg_batch", ["registry"]) as batch_url,
    ):
        one, batch = make_engine(one_url), make_engine(batch_url)
        for engine in (one, batch):
            async with engine.begin() as conn:
                await conn.execute(insert(nominations), rows())
        try:
            yield one, batch
        finally:
            await one.dispose()
            await batch.dispose()


async def apply_one_by_one(engine: AsyncEngine, envelopes: list[Envelope]) -> None:
    for envelope in envelopes:
        async with engine.begin() as conn:
            await project_consumed(conn, envelope)


async def apply_in_batches(engine: AsyncEngine, envelopes: list[Envelope], rng: random.Random) -> None:
    start = 0
    while start < len(envelopes):
        size = rng.randint(1, 40)
        async with engine.begin() as conn:
            await project_consumed_batch(conn, envelopes[start : start + size])
        start += size


async def test_replies_in_batches_leave_what_they_leave_one_by_one(
    engines: tuple[AsyncEngine, AsyncEngine],
) -> None:
    one, batch = engines
    rng = random.Random(17)
    for round_ in range(4):
        events = [
            reply(rng.choice(KINDS), rng.choice(WORKERS), rng.choice(PROGRAMMES), n)
            for n in range(round_ * 100, round_ * 100 + 100)
        ]
        envelopes = [envelope_of(e, "allocation", f"s-{i}") for i, e in enumerate(events)]

        await apply_one_by_one(one, envelopes)
        await apply_in_batches(batch, envelopes, rng)

        assert await state(batch) == await state(one)
    seats, members = await state(one)
    assert len({seat for _, seat, _ in seats}) >= 4 and members  # the rules had work to do


async def test_one_batch_follows_the_one_payer_rules(engines: tuple[AsyncEngine, AsyncEngine]) -> None:
    _, batch = engines
    prov, kab = PROGRAMMES
    events = [
        reply("assigned", "w0", prov, 1),
        reply("enrolled", "w0", prov, 2),  # assigned -> enrolled, in the same batch
        reply("enrolled", "w1", prov, 3),  # enrollment overtook allocation: applies with no seat yet
        reply("assigned", "w1", prov, 4),  # ...and the seating after it does not move it back
        reply("assigned", "w2", prov, 5),
        reply("released", "w2", prov, 6),
        reply("released", "w3", prov, 7),  # a release follows only a seat: none yet, nothing
        reply("declined", "w4", kab, 8),
        reply("enrolled", "w7", kab, 9),  # only a validated nomination moves on
        reply("enrolled", "w5", prov, 10),
        reply("enrolled", "w5", kab, 11),  # the worker's last membership wins
    ]

    async with batch.begin() as conn:
        await project_consumed_batch(conn, [envelope_of(e, "allocation", "s") for e in events])

    seats, members = await state(batch)
    seat = {n: (s, h) for n, s, h in seats}
    assert seat[nomination_id("w0", prov)] == ("enrolled", None)
    assert seat[nomination_id("w1", prov)] == ("enrolled", None)
    assert seat[nomination_id("w2", prov)] == ("released", None)
    assert seat[nomination_id("w3", prov)] == (None, None)
    assert seat[nomination_id("w4", kab)] == ("declined", prov)
    assert seat[nomination_id("w7", kab)] == (None, None)
    assert [(m[0], m[1], m[2]) for m in members] == [
        ("w0", "KPJ-2", prov), ("w1", "KPJ-3", prov), ("w5", "KPJ-11", kab), ("w7", "KPJ-9", kab),
    ]  # fmt: skip
