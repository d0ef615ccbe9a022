"""The claims service through its real path: Kafka in, PostgreSQL, outbox relay, Kafka out.

One service start for the module (joining the consumer group costs a second or two): the
fixture migrates a fresh database, starts the service, feeds it enrollments then claims, waits
until every envelope is in the inbox, and the tests read the outcome from the tables, the
`lindung.claims.v1` topic and the HTTP API.
"""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events import topics
from libs.events.contracts.bpjs import ClaimPaid
from libs.events.contracts.common import Funder
from libs.events.contracts.enrollment import EnrolledAtBPJS, PremiumPaid
from libs.events.envelope import Envelope
from libs.identity import worker_id_for
from libs.runtime.service import Runtime
from libs.settings import get_settings
from services.claims.adapters.tables import claims, eventstore
from services.claims.entrypoints.app import definition
from tests.infra import Infra
from tests.running import eventually
from tests.support.envelopes import envelope_of
from tests.support.kafka import produce
from tests.support.stack import partial_stack

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:6].upper()  # topics outlive a test session's databases: unique ids


def nik() -> str:
    return f"1217{random.randrange(10**12):012d}"


def kpj(name: str) -> str:
    return f"KPJ-{RUN}-{name}"


def cid(name: str) -> str:
    return f"CLM-{RUN}-{name}"


def enrolled(worker_id: str, programme: str, regency: str, kpj_: str, start: date, end: date) -> Envelope:
    event = EnrolledAtBPJS(
        worker_id=worker_id,
        programme_code=programme,
        funder=Funder.APBD_PROVINSI,
        regency_code=regency,
        kpj=kpj_,
        coverage_start=start,
        coverage_end=end,
        request_id=f"{worker_id}:{programme}",
    )
    return envelope_of(event, "enrollment", f"registration-{worker_id}:{programme}")


def premium_paid(programme: str, regency: str, month: str, worker_ids: list[str]) -> Envelope:
    """Every month of 2025 is paid: claims judge coverage from paid months (docs/claims.md)."""
    event = PremiumPaid(
        programme_code=programme,
        month=month,
        funder=Funder.APBD_PROVINSI,
        regency_code=regency,
        workers=len(worker_ids),
        jkk_total=10_000 * len(worker_ids),
        jkm_total=6_800 * len(worker_ids),
        total=16_800 * len(worker_ids),
        payment_ref=f"PAY-{programme}-{month}",
        bill_id=f"{programme}:{month}:{regency}",
        worker_ids=worker_ids,
    )
    return envelope_of(event, "enrollment", f"bill-{programme}:{month}:{regency}")


def paid(
    claim_id: str, kpj_: str, nik_: str, programme: str, kind: str, incident: date, amount: int
) -> Envelope:
    event = ClaimPaid(
        claim_id=claim_id,
        kpj=kpj_,
        nik=nik_,
        programme=programme,
        benefit_kind=kind,
        incident_date=incident,
        paid_date=date(incident.year, incident.month, 28),
        amount=amount,
    )
    return envelope_of(event, "bpjs", f"bpjs-claim-{claim_id}")


def again(env: Envelope, **payload: Any) -> Envelope:
    """The same claim pushed again by BPJS: a new event id, the payload changed by `payload`."""
    return env.model_copy(update={"event_id": uuid.uuid4(), "payload": {**env.payload, **payload}})


async def read_streams(
    bootstrap: str, streams: set[str], expected: int, timeout_s: float = 20.0
) -> list[Any]:
    """Records of `topics.CLAIMS` that belong to `streams` (the topic may hold other runs')."""
    consumer = AIOKafkaConsumer(
        topics.CLAIMS, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    mine: list[Any] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(mine) < expected and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                mine += [r for r in records if Envelope.from_bytes(r.value).aggregate_id in streams]
    finally:
        await consumer.stop()
    return mine


@dataclass
class Flow:
    rt: Runtime
    http: httpx.AsyncClient
    niks: dict[str, str]
    workers: dict[str, str]
    sent: dict[str, Envelope] = field(default_factory=dict)
    records: list[Any] = field(default_factory=list)

    @property
    def engine(self) -> AsyncEngine:
        return self.rt.engine

    async def claim(self, claim_id: str) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(select(claims).where(claims.c.claim_id == claim_id))).one()

    async def stream(self, claim_id: str) -> list[Envelope]:
        async with self.engine.connect() as conn:
            return await self.rt.store.load(conn, f"claim-{claim_id}")

    def published(self, claim_id: str) -> list[Envelope]:
        return [
            e
            for e in map(Envelope.from_bytes, (r.value for r in self.records))
            if e.aggregate_id == f"claim-{claim_id}"
        ]


async def inbox_holds(engine: AsyncEngine, event_ids: set[uuid.UUID], parked: int = 0) -> bool:
    inbox, dead = eventstore.inbox, eventstore.dead_letters
    async with engine.connect() as conn:
        seen = (await conn.execute(select(func.count()).where(inbox.c.event_id.in_(event_ids)))).scalar_one()
        dead_count = (await conn.execute(select(func.count()).select_from(dead))).scalar_one()
    return seen == len(event_ids) and dead_count >= parked


@pytest.fixture(scope="module")
async def flow(infra: Infra) -> AsyncIterator[Flow]:
    services = {"claims": definition}
    async with (
        partial_stack(infra, services) as started,
        started.client("claims") as http,
    ):
        niks = {name: nik() for name in ("ani", "budi", "citra", "dedi", "eka")}
        workers = {name: worker_id_for(n, get_settings().nik_pepper) for name, n in niks.items()}
        f = Flow(started.runtimes["claims"], http, niks, workers)
        await _feed(f, infra.bootstrap)
        yield f


async def _feed(f: Flow, bootstrap: str) -> None:
    w, n = f.workers, f.niks
    y25 = (date(2025, 1, 1), date(2025, 12, 31))
    # 1. Enrollments first (coverage must be known when the claims arrive). Budi holds two KPJs:
    #    one from the province, one from Labuhanbatu's DBH Sawit programme.
    enrollments = [
        (w["ani"], enrolled(w["ani"], "SUMUT-2025", "12.17", kpj("ANI"), *y25)),
        (w["budi"], enrolled(w["budi"], "SUMUT-2025", "12.10", kpj("BUDI1"), *y25)),
        (w["budi"], enrolled(w["budi"], "LABUHANBATU-2025", "12.10", kpj("BUDI2"), *y25)),
        (
            w["citra"],
            enrolled(w["citra"], "SAMOSIR-2026", "12.12", kpj("CITRA"), date(2026, 1, 1), date(2026, 12, 31)),
        ),
    ]
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    premiums = [
        *((w["budi"], premium_paid("SUMUT-2025", "12.17", m, [w["ani"], w["budi"]])) for m in months),
        *((w["budi"], premium_paid("LABUHANBATU-2025", "12.10", m, [w["budi"]])) for m in months),
    ]
    await produce(bootstrap, topics.ENROLLMENT, [*enrollments, *premiums])
    await eventually(lambda: inbox_holds(f.engine, {e.event_id for _, e in [*enrollments, *premiums]}))

    # 2. Claims. Ani's all go to one partition (key = KPJ), so their order holds.
    ok = paid(cid("OK"), kpj("ANI"), n["ani"], "JKK", "MEDICAL", date(2025, 3, 10), 5_000_000)
    changed = again(ok, amount=6_000_000)
    f.sent = {
        "ok": ok,
        "out": paid(cid("OUT"), kpj("CITRA"), n["citra"], "JKM", "DEATH", date(2025, 6, 1), 42_000_000),
        "unknown": paid(cid("UNK"), kpj("NOBODY"), n["dedi"], "JKK", "MEDICAL", date(2025, 2, 1), 750_000),
        "death1": paid(cid("D1"), kpj("BUDI1"), n["budi"], "JKM", "DEATH", date(2025, 5, 1), 42_000_000),
        "high": paid(cid("HIGH"), kpj("ANI"), n["ani"], "JKK", "FUNERAL", date(2025, 4, 1), 15_000_000),
        "same_content": again(ok),
        "changed": changed,
        "changed_again": again(changed),
        "poison": paid(cid("BAD"), kpj("EKA"), n["eka"], "JKK", "BONUS", date(2025, 7, 1), 1_000),
    }
    s = f.sent
    batch = [
        s["ok"],
        s["out"],
        s["unknown"],
        s["death1"],
        s["high"],
        s["ok"],  # redelivered: the very same event
        s["same_content"],
        s["changed"],
        s["changed_again"],
        s["poison"],
    ]
    await produce(bootstrap, topics.BPJS_CLAIMS, [(e.payload["kpj"], e) for e in batch])
    await eventually(lambda: inbox_holds(f.engine, {e.event_id for e in batch}, parked=1))

    # 3. Budi's second death, under his other KPJ (another partition: sent once the first is in).
    s["death2"] = paid(cid("D2"), kpj("BUDI2"), n["budi"], "JKK", "DEATH", date(2025, 5, 1), 48_000_000)
    await produce(bootstrap, topics.BPJS_CLAIMS, [(kpj("BUDI2"), s["death2"])])
    await eventually(lambda: inbox_holds(f.engine, {s["death2"].event_id}))

    async def drained() -> bool:
        return await f.rt.relay.unsent() == 0

    await eventually(drained)
    async with f.engine.connect() as conn:
        stored = (await conn.execute(select(func.count()).select_from(eventstore.events))).scalar_one()
    streams = {f"claim-{cid(x)}" for x in ("OK", "OUT", "UNK", "D1", "D2", "HIGH", "BAD")}
    f.records = await read_streams(bootstrap, streams, expected=stored)


def codes(env: Envelope) -> list[str]:
    return [r["code"] for r in env.payload["reasons"]]


async def test_claim_within_coverage_is_recorded_with_its_programme_and_no_flag(flow: Flow) -> None:
    row = await flow.claim(cid("OK"))
    assert (row.worker_id, row.kpj, row.programme, row.benefit_kind) == (
        flow.workers["ani"],
        kpj("ANI"),
        "JKK",
        "MEDICAL",
    )
    assert (row.programme_code, row.regency_code, row.amount) == ("SUMUT-2025", "12.17", 5_000_000)
    first = flow.published(cid("OK"))[0]
    assert first.event_type == "ClaimRecorded" and first.producer == "claims"
    assert first.correlation_id == flow.sent["ok"].correlation_id
    assert first.causation_id == flow.sent["ok"].event_id
    assert "nik" not in first.payload and flow.niks["ani"] not in first.model_dump_json()


async def test_incident_outside_coverage_is_flagged(flow: Flow) -> None:
    row = await flow.claim(cid("OUT"))
    assert row.flagged and [x["code"] for x in row.flags] == ["INCIDENT_OUTSIDE_COVERAGE"]
    assert row.flags[0]["details"]["coverage_reason"] == "BEFORE_COVERAGE_START"
    assert row.programme_code == "SAMOSIR-2026"
    events = flow.published(cid("OUT"))
    assert [e.event_type for e in events] == ["ClaimRecorded", "ClaimFlagged"]
    assert codes(events[1]) == ["INCIDENT_OUTSIDE_COVERAGE"]


async def test_unknown_participant_is_recorded_without_programme_and_flagged(flow: Flow) -> None:
    row = await flow.claim(cid("UNK"))
    assert row.programme_code is None and row.regency_code is None
    assert row.worker_id == flow.workers["dedi"]
    events = flow.published(cid("UNK"))
    assert [e.event_type for e in events] == ["ClaimRecorded", "ClaimFlagged"]
    assert codes(events[1]) == ["UNKNOWN_PARTICIPANT"]


async def test_second_death_claim_of_one_person_under_another_kpj_is_flagged(flow: Flow) -> None:
    first = await flow.claim(cid("D1"))
    second = await flow.claim(cid("D2"))
    assert not first.flagged
    assert second.flagged and second.programme_code == "LABUHANBATU-2025"
    events = flow.published(cid("D2"))
    assert [e.event_type for e in events] == ["ClaimRecorded", "ClaimFlagged"]
    assert codes(events[1]) == ["DUPLICATE_DEATH_CLAIM"]
    assert cid("D1") in events[1].payload["reasons"][0]["details"]["detail"]
    assert events[1].payload["worker_id"] == flow.workers["budi"]


async def test_amount_above_the_benefit_ceiling_is_flagged(flow: Flow) -> None:
    events = flow.published(cid("HIGH"))
    assert [e.event_type for e in events] == ["ClaimRecorded", "ClaimFlagged"]
    assert codes(events[1]) == ["AMOUNT_ABOVE_BENEFIT"]
    assert "Rp10.000.000" in events[1].payload["reasons"][0]["details"]["detail"]


async def test_redelivery_and_identical_repeat_are_no_ops_and_a_changed_amount_is_flagged_once(
    flow: Flow,
) -> None:
    stream = await flow.stream(cid("OK"))
    # Four deliveries after the first: the same event (inbox), the same content under a new
    # event id (no-op), a new amount (flagged, not re-recorded), that new amount again (no-op).
    assert [e.event_type for e in stream] == ["ClaimRecorded", "ClaimFlagged"]
    assert [e.event_type for e in flow.published(cid("OK"))] == ["ClaimRecorded", "ClaimFlagged"]
    flagged = stream[1]
    assert codes(flagged) == ["CLAIM_AMOUNT_CHANGED"]
    assert flagged.causation_id == flow.sent["changed"].event_id
    details = flagged.payload["reasons"][0]["details"]
    assert (details["amount"], details["previous_amount"]) == ("6000000", "5000000")
    row = await flow.claim(cid("OK"))
    assert row.amount == 5_000_000 and [x["code"] for x in row.flags] == ["CLAIM_AMOUNT_CHANGED"]
    assert flow.rt.consumer is not None and flow.rt.consumer.duplicates >= 1


async def test_unknown_benefit_kind_is_parked_and_the_partition_keeps_flowing(flow: Flow) -> None:
    async with flow.engine.connect() as conn:
        dead = (await conn.execute(select(eventstore.dead_letters))).all()
        recorded = (
            await conn.execute(select(func.count()).where(claims.c.claim_id == cid("BAD")))
        ).scalar_one()
    assert [d.event_id for d in dead] == [flow.sent["poison"].event_id]
    assert "BONUS" in dead[0].error and recorded == 0
    assert flow.published(cid("BAD")) == []


async def test_every_stored_event_is_published_once(flow: Flow) -> None:
    async with flow.engine.connect() as conn:
        ids = {r[0] for r in await conn.execute(select(eventstore.events.c.event_id))}
    published = [Envelope.from_bytes(r.value).event_id for r in flow.records]
    assert sorted(published) == sorted(ids) and len(ids) == 11


async def test_http_lists_filters_summarises_and_never_shows_a_nik(flow: Flow) -> None:
    http = flow.http
    everything = (await http.get("/claims", params={"per_page": 500})).json()
    assert everything["total"] == 6
    flagged = (await http.get("/claims", params={"flagged": "true"})).json()
    assert {c["claim_id"] for c in flagged["items"]} == {cid(x) for x in ("OUT", "UNK", "D2", "HIGH", "OK")}
    jkm = (await http.get("/claims", params={"type": "JKM", "month": "2025-05"})).json()
    assert [c["claim_id"] for c in jkm["items"]] == [cid("D1")]
    labuhanbatu = (
        await http.get("/claims", params={"programme": "LABUHANBATU-2025", "regency": "12.10"})
    ).json()
    assert [c["claim_id"] for c in labuhanbatu["items"]] == [cid("D2")]
    page = (await http.get("/claims", params={"per_page": 2, "page": 3})).json()
    assert page["total"] == 6 and len(page["items"]) == 2
    by_flag = (await http.get("/claims", params={"flag": "AMOUNT_ABOVE_BENEFIT"})).json()
    assert [c["claim_id"] for c in by_flag["items"]] == [cid("HIGH")]
    assert (await http.get("/claims", params={"month": "2025-13"})).status_code == 422

    summary = (await http.get("/claims/summary")).json()
    assert summary["total"] == {
        "claims": 6,
        "amount": 5_000_000 + 42_000_000 * 2 + 750_000 + 15_000_000 + 48_000_000,
        "flagged": 5,
    }
    months = {(m["type"], m["month"]): (m["claims"], m["amount"]) for m in summary["by_type_and_month"]}
    assert months[("JKM", "2025-05")] == (1, 42_000_000)
    assert months[("JKK", "2025-05")] == (1, 48_000_000)
    assert summary["flagged_by_code"] == {
        "AMOUNT_ABOVE_BENEFIT": 1,
        "CLAIM_AMOUNT_CHANGED": 1,
        "DUPLICATE_DEATH_CLAIM": 1,
        "INCIDENT_OUTSIDE_COVERAGE": 1,
        "UNKNOWN_PARTICIPANT": 1,
    }

    one = await http.get(f"/claims/{cid('D2')}")
    assert one.status_code == 200 and one.json()["flags"][0]["code"] == "DUPLICATE_DEATH_CLAIM"
    assert (await http.get("/claims/CLM-NONE")).status_code == 404
    bodies = everything | {"summary": summary, "one": one.json()}
    text = str(bodies)
    assert "nik" not in text.lower() and not any(n in text for n in flow.niks.values())
