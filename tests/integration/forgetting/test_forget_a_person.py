"""Forgetting a person, end to end (docs/security.md, "Forgetting a person").

Every service in-process with a privacy master key, on real PostgreSQL and the package's broker.
Rugun is nominated over HTTP (with a name, NIK, birth date, address and phone nobody else has),
validated, seated, decreed (annex), enrolled through the BPJS simulator, billed and paid for
January, and BPJS pays a claim for her; Sahat goes the same way and is not forgotten. Then the
province admin runs `lindung privacy forget NIK --reason ...`. Afterwards:

- `lindung audit verify` is green, and `lindung audit replay` rebuilds every service's read
  models equal to the live (scrubbed) ones;
- every count and money figure (registry, allocation, enrollment, claims, dashboard) is unchanged;
- the registry listing, the decree annex and a (masked) audit export show her as forgotten;
- no table of any Lindung schema and no record of any Lindung topic holds her NIK (nor its 16
  digits anywhere), name, birth date, address or phone. The exceptions are stated and checked:
  the BPJS simulator's schema (it plays BPJS's own database) and the topics read or written by
  BPJS (`lindung.bpjs.requests.v1` carries the identity BPJS registers, `lindung.bpjs.claims.v1`
  the NIK BPJS sends), which keep what was sent for their retention
  (LINDUNG_KAFKA_TOPIC_RETENTION_MS, tested in tests/integration/kafka_engine/test_retention.py).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events import topics
from libs.events.contracts.registry import NominationSubmitted
from libs.identity import worker_id_for
from libs.nik import compose_nik
from libs.pii import FORGOTTEN
from libs.privacy.cipher import MasterKey, is_encrypted
from libs.runtime.service import Runtime
from libs.settings import get_settings
from lindung_cli.embedded import free_port
from tests.infra import Infra, run_id
from tests.integration.audit.support import lindung
from tests.integration.signed_events.conftest import expect
from tests.running import eventually
from tests.support.envelopes import envelope_of
from tests.support.kafka import produce
from tests.support.stack import in_process_stack

pytestmark = pytest.mark.integration

SAMOSIR = "12.17"
RUN = run_id()
PROGRAMME = f"LUPA-{RUN}-2026"
PROGRAMME_YAML = f"""
code: {PROGRAMME}
name: Uji melupakan orang 2026
year: 2026
funder: APBD_PROVINSI
jurisdiction: "12"
coverage_start: 2026-01-01
budget_cap: 100000000
allowed_deciles: [1, 2]
decree_kind: SK_GUBERNUR
requires_decree: true
nik_regency_must_match: true
quotas:
  - {{regency: "{SAMOSIR}", sector: non_sawit, seats: 5}}
"""


@dataclass(frozen=True)
class Person:
    nik: str
    full_name: str
    birth: date
    sex: str
    address: str
    phone: str

    def form(self) -> dict[str, Any]:
        return {
            "programme_code": PROGRAMME,
            "nik": self.nik,
            "full_name": self.full_name,
            "birth_date": self.birth.isoformat(),
            "sex": self.sex,
            "occupation": "petani kopi",
            "regency_code": SAMOSIR,
            "kecamatan": "Pangururan",
            "desa": "Lumban Suhi Suhi",
            "address": self.address,
            "phone": self.phone,
            "sector": "non_sawit",
        }

    @property
    def worker_id(self) -> str:
        return worker_id_for(self.nik, get_settings().nik_pepper)

    def traces(self) -> dict[str, str]:
        """What of her must be nowhere: each value as it would be written."""
        return {
            "nik": self.nik,
            "name": self.full_name,
            "name (surname)": self.full_name.split()[1],
            "birth date": self.birth.isoformat(),
            "birth date (dd-mm-yyyy)": self.birth.strftime("%d-%m-%Y"),
            "address": self.address,
            "phone": self.phone,
        }


RUGUN = Person(
    compose_nik(SAMOSIR, 5, date(1987, 4, 19), "P", 7341),
    "Rugun Tiurmaida Sinurat",
    date(1987, 4, 19),
    "P",
    "Jalan Huta Tinggi Nomor 77",
    "081377001122",
)
SAHAT = Person(
    compose_nik(SAMOSIR, 5, date(1979, 8, 2), "L", 7342),
    "Sahat Parulian Malau",
    date(1979, 8, 2),
    "L",
    "Jalan Sitolu Hae Nomor 3",
    "081299887766",
)
REASON = "permintaan subjek data, surat nomor 12/PDP/2026"
# The BPJS simulator's schema is BPJS's own database, not Lindung's.
FOREIGN_SCHEMAS = {"bpjs_simulator"}
# Topics to and from BPJS: what was sent stays until the topic's retention.
FOREIGN_TOPICS_HOLDING = {topics.BPJS_REQUESTS, topics.BPJS_CLAIMS}


@dataclass
class Stack:
    engine: AsyncEngine
    apps: dict[str, FastAPI]
    runtimes: dict[str, Runtime]
    bootstrap: str
    registry_url: str
    decree_version: int = 1

    async def call(self, service: str, method: str, path: str, **kw: Any) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.apps[service])
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{service}", timeout=60) as http:
            return await http.request(method, path, **kw)

    async def json(self, service: str, path: str, **params: Any) -> Any:
        answer = await self.call(service, "GET", path, params=params)
        assert answer.status_code == 200, f"{path}: {answer.text}"
        return answer.json()


@pytest.fixture(scope="module")
async def stack(infra: Infra) -> AsyncIterator[Stack]:
    env = {"LINDUNG_PRIVACY_MASTER_KEY": MasterKey.generate().text()}
    async with in_process_stack(infra, "lindung_forget", env=env) as services:
        port = free_port()
        server = uvicorn.Server(
            uvicorn.Config(
                services.apps["registry"], host="127.0.0.1", port=port, lifespan="off", log_config=None
            )
        )
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        try:
            yield Stack(
                services.engine, services.apps, services.runtimes, infra.bootstrap, f"http://127.0.0.1:{port}"
            )
        finally:
            server.should_exit = True
            await serving


async def _through_the_year(stack: Stack) -> None:
    """Both workers from the HTTP nomination to a paid claim."""
    yaml = {"content-type": "application/yaml"}
    await expect(
        await stack.call("allocation", "POST", "/programmes", content=PROGRAMME_YAML, headers=yaml), 201
    )

    async def registry_knows() -> bool:
        return any(p["programme_code"] == PROGRAMME for p in await stack.json("registry", "/programmes"))

    await eventually(registry_knows, timeout_s=30)
    extract = "nik,desil\n" + "".join(f"{p.nik},1\n" for p in (RUGUN, SAHAT))
    await expect(await stack.call("registry", "POST", "/reference/p3ke", content=extract.encode()), 201)
    for person in (RUGUN, SAHAT):
        answer = await expect(await stack.call("registry", "POST", "/nominations", json=person.form()), 201)
        assert answer["status"] == "validated", answer

    async def seated() -> bool:
        sql = "SELECT count(*) FROM allocation.assignments WHERE programme_code = :p AND status = 'assigned'"
        async with stack.engine.connect() as conn:
            return int((await conn.execute(text(sql), {"p": PROGRAMME})).scalar_one()) == 2

    await eventually(seated, timeout_s=30)
    decree = {"number": f"188.44/{RUN}/KPTS/2026", "date": "2026-02-01", "signer": "Gubernur Sumatera Utara"}
    issued = await expect(
        await stack.call("allocation", "POST", f"/programmes/{PROGRAMME}/decrees", json=decree), 201
    )
    stack.decree_version = int(issued.get("version", 1))

    async def enrolled() -> dict[str, str] | None:
        sql = (
            "SELECT worker_id, kpj FROM enrollment.registrations "
            "WHERE programme_code = :p AND status = 'enrolled'"
        )
        async with stack.engine.connect() as conn:
            rows = (await conn.execute(text(sql), {"p": PROGRAMME})).all()
        return {r.worker_id: r.kpj for r in rows} if len(rows) == 2 else None

    kpjs = await eventually(enrolled, timeout_s=60)
    await expect(
        await stack.call(
            "enrollment", "POST", "/premiums/bills", json={"programme_code": PROGRAMME, "month": "2026-01"}
        ),
        201,
    )

    async def settled() -> bool:
        bill = await stack.json("enrollment", "/premiums/bills", programme=PROGRAMME, month="2026-01")
        return bool(bill["settled"])

    await eventually(settled, timeout_s=60, interval_s=0.3)
    claim = {
        "kpj": kpjs[RUGUN.worker_id],
        "programme": "JKK",
        "benefit_kind": "MEDICAL",
        "incident_date": "2026-06-01",
        "amount": 1_750_000,
        "claim_id": f"CLM-{RUN}-rugun",
    }
    await expect(await stack.call("bpjs_simulator", "POST", "/control/claims", json=claim), 202)

    async def recorded() -> bool:
        return (await stack.call("claims", "GET", f"/claims/CLM-{RUN}-rugun")).status_code == 200

    await eventually(recorded, timeout_s=30)


async def _figures(stack: Stack) -> dict[str, Any]:
    """Every count and money figure the services answer for the programme."""
    listing = await stack.json("registry", "/nominations", programme=PROGRAMME)
    rows = listing["items"] if isinstance(listing, dict) else listing
    return {
        "registry": sorted((r["status"], r["worker_id"]) for r in rows),
        "allocation": await stack.json("allocation", f"/programmes/{PROGRAMME}"),
        "budget": await stack.json("allocation", f"/programmes/{PROGRAMME}/budget"),
        "quotas": await stack.json("allocation", f"/programmes/{PROGRAMME}/quotas"),
        "decrees": await stack.json("allocation", f"/programmes/{PROGRAMME}/decrees"),
        "enrollment": await stack.json("enrollment", "/enrollments/stats", programme=PROGRAMME),
        "bills": await stack.json("enrollment", "/premiums/bills", programme=PROGRAMME, month="2026-01"),
        "claims": await stack.json("claims", "/claims/summary"),
        "dashboard": {  # `as_of`: when it was asked, not a figure
            k: v
            for k, v in (await stack.json("dashboard", f"/api/programmes/{PROGRAMME}/summary")).items()
            if k != "as_of"
        },
    }


async def _table_texts(engine: AsyncEngine) -> dict[str, str]:
    """Every row of every table of every schema, as text (bytes decoded), by schema.table."""
    found: dict[str, str] = {}
    async with engine.connect() as conn:
        tables = (
            await conn.execute(
                text(
                    "SELECT table_schema, table_name FROM information_schema.tables "
                    "WHERE table_type = 'BASE TABLE' "
                    "AND table_schema NOT IN ('pg_catalog', 'information_schema')"
                )
            )
        ).all()
        for schema, table in tables:
            rows = (await conn.execute(text(f'SELECT * FROM "{schema}"."{table}"'))).all()
            found[f"{schema}.{table}"] = "\n".join(
                " ".join(v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in row)
                for row in rows
            )
    return found


async def _topic_texts(bootstrap: str) -> dict[str, str]:
    """Every record (key, value, headers) of every Lindung topic from the beginning, as text."""
    found: dict[str, str] = {}
    for topic in topics.all_topic_names():
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
        )
        await consumer.start()
        parts: list[str] = []
        try:
            await consumer.getmany(timeout_ms=100)  # joins its partitions
            ends = await consumer.end_offsets(list(consumer.assignment()))
            await consumer.seek_to_beginning()

            while any([await consumer.position(tp) < end for tp, end in ends.items()]):
                for records in (await consumer.getmany(timeout_ms=500)).values():
                    for r in records:
                        headers = " ".join(f"{k}={v.decode('utf-8', 'replace')}" for k, v in r.headers or ())
                        key = (r.key or b"").decode("utf-8", "replace")
                        parts.append(f"{key} {(r.value or b'').decode('utf-8', 'replace')} {headers}")
        finally:
            await consumer.stop()
        found[topic] = "\n".join(parts)
    return found


def _diff(a: Any, b: Any, at: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        return [d for k in sorted(set(a) | set(b)) for d in _diff(a.get(k), b.get(k), f"{at}.{k}")]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True)) for d in _diff(x, y, f"{at}[{i}]")]
    return [] if a == b else [f"{at}: {a!r} -> {b!r}"]


def _holding(texts: dict[str, str], person: Person) -> dict[str, list[str]]:
    return {
        where: [what for what, value in person.traces().items() if value in content]
        for where, content in texts.items()
        if any(value in content for value in person.traces().values())
    }


async def test_a_forgotten_person_leaves_no_trace_and_every_figure_stays(
    stack: Stack, tmp_path: Path
) -> None:
    await _through_the_year(stack)
    before = await _figures(stack)
    # Sealed from the start: the events, outboxes and inboxes never held her in clear.
    tables = await _table_texts(stack.engine)
    logs = {
        t: w for t, w in _holding(tables, RUGUN).items() if t.split(".")[1] in ("events", "outbox", "inbox")
    }
    assert {t.split(".")[0] for t in logs} <= FOREIGN_SCHEMAS, logs

    forgotten = await lindung(
        "privacy",
        "forget",
        RUGUN.nik,
        "--reason",
        REASON,
        "--officer",
        "Kabid PDP",
        "--url",
        stack.registry_url,
    )
    assert forgotten.exit_code == 0, forgotten.output
    assert RUGUN.nik not in forgotten.output and RUGUN.full_name not in forgotten.output
    again = await lindung("privacy", "forget", RUGUN.nik, "--reason", REASON, "--url", stack.registry_url)
    assert again.exit_code == 1 and "PERSON_ALREADY_FORGOTTEN" in again.output

    async def scrubbed() -> bool:
        sql = (
            "SELECT (SELECT count(*) FROM enrollment.registrations WHERE worker_id = :w AND nik_masked = :f)"
            " + (SELECT count(*) FROM allocation.decree_entries WHERE worker_id = :w AND full_name = :f)"
        )
        async with stack.engine.connect() as conn:
            return (
                int((await conn.execute(text(sql), {"w": RUGUN.worker_id, "f": FORGOTTEN})).scalar_one()) >= 2
            )

    await eventually(scrubbed, timeout_s=30)

    # Who and why are recorded (no NIK): the event, and the vault's tombstone.
    async with stack.engine.connect() as conn:
        event = (
            await conn.execute(
                text(
                    "SELECT payload FROM registry.events "
                    "WHERE event_type = 'PersonForgotten' AND aggregate_id LIKE :w"
                ),
                {"w": f"%{RUGUN.worker_id}"},
            )
        ).scalar_one()
        tomb = (await conn.execute(text("SELECT forgotten_by, reason FROM privacy.forgotten"))).one()
    assert (event["reason"], event["forgotten_by"]) == (REASON, "Kabid PDP")
    assert (tomb.forgotten_by, tomb.reason) == ("Kabid PDP", REASON)

    # Counts and money unchanged.
    after = await _figures(stack)
    assert after == before, [(k, _diff(before[k], after[k])) for k in before if before[k] != after[k]]

    # Shown as forgotten: the registry listing, the annex, a masked audit export.
    listing = await stack.json("registry", "/nominations", programme=PROGRAMME)
    rows = {r["worker_id"]: r for r in (listing["items"] if isinstance(listing, dict) else listing)}
    assert (rows[RUGUN.worker_id]["full_name"], rows[RUGUN.worker_id]["nik"]) == (FORGOTTEN, FORGOTTEN)
    assert rows[SAHAT.worker_id]["full_name"] == SAHAT.full_name
    annex = await stack.call(
        "allocation", "GET", f"/programmes/{PROGRAMME}/decrees/{stack.decree_version}/annex.csv"
    )
    assert annex.status_code == 200 and FORGOTTEN in annex.text and SAHAT.full_name in annex.text
    assert not [v for v in RUGUN.traces().values() if v in annex.text]
    exported = await lindung(
        "audit", "export", "--regency", SAMOSIR, "--year", "2026", "--out", str(tmp_path / "x")
    )
    assert exported.exit_code == 0, exported.output
    export_text = "\n".join(p.read_text() for p in (tmp_path / "x").iterdir())
    assert FORGOTTEN in export_text and not [v for v in RUGUN.traces().values() if v in export_text]

    # The chains still verify (they cover the ciphertext), and every replay equals the live models.
    verified = await lindung("audit", "verify")
    assert verified.exit_code == 0, verified.output
    for service in ("registry", "allocation", "enrollment", "claims", "dashboard"):
        replayed = await lindung("audit", "replay", service)
        assert replayed.exit_code == 0, f"{service}: {replayed.output}"
    for service in ("registry", "allocation", "enrollment"):  # and from the topics
        replayed = await lindung("audit", "replay", service, "--source", "kafka")
        assert replayed.exit_code == 0, f"{service} from Kafka: {replayed.output}"

    # No trace in any table of Lindung's, nor in any Lindung topic; BPJS's side is stated.
    tables = await _table_texts(stack.engine)
    traces = _holding(tables, RUGUN)
    assert {t.split(".")[0] for t in traces} <= FOREIGN_SCHEMAS, traces
    assert _holding(tables, SAHAT)  # the search finds what is there: Sahat is not forgotten
    records = await _topic_texts(stack.bootstrap)
    on_topics = _holding(records, RUGUN)
    assert set(on_topics) == FOREIGN_TOPICS_HOLDING, on_topics
    assert on_topics[topics.BPJS_CLAIMS] == ["nik"]  # BPJS sends the NIK of a claim, nothing more


TIUR = Person(
    compose_nik(SAMOSIR, 5, date(1992, 11, 23), "P", 7343),
    "Tiurlan Marsaulina Sidabutar",
    date(1992, 11, 23),
    "P",
    "Jalan Tele Nomor 12",
    "081233445566",
)


async def test_a_regency_systems_nomination_is_kept_sealed_in_the_registry_inbox(stack: Stack) -> None:
    """The inbound topic brings a nomination in clear (the regency system's message): the
    registry records it and keeps its inbox copy sealed under her key, like the events."""
    fields = {k: v for k, v in TIUR.form().items()} | {"source_ref": f"SIAK-{RUN}-1"}
    request = envelope_of(NominationSubmitted(**fields), f"regency-{SAMOSIR}", f"regency-{SAMOSIR}-{RUN}")
    await produce(stack.bootstrap, topics.NOMINATIONS_INBOUND, [(fields["source_ref"], request)])

    # And one the registry cannot read (no source_ref): parked, answered, its inbox row sealed too.
    unreadable = request.model_copy(
        update={
            "event_id": uuid.uuid4(),
            "payload": {k: v for k, v in request.payload.items() if k != "source_ref"},
        }
    )
    await produce(stack.bootstrap, topics.NOMINATIONS_INBOUND, [(b"SIAK-unreadable", unreadable)])

    async def copy(event_id: uuid.UUID, outcome: str) -> Any:
        sql = "SELECT envelope FROM registry.inbox WHERE event_id = :e AND outcome = :o"
        async with stack.engine.connect() as conn:
            return (await conn.execute(text(sql), {"e": event_id, "o": outcome})).scalar_one_or_none()

    parked = await eventually(lambda: copy(unreadable.event_id, "parked"), timeout_s=30)
    assert not [what for what, value in TIUR.traces().items() if value in str(parked)], parked
    kept = await eventually(lambda: copy(request.event_id, "applied"), timeout_s=30)
    rows = await stack.json("registry", "/nominations", source_ref=fields["source_ref"])
    assert [r["full_name"] for r in rows["items"]] == [TIUR.full_name]  # recorded, and readable
    held = str(kept)
    assert not [what for what, value in TIUR.traces().items() if value in held], held
    assert is_encrypted(kept["payload"]["nik"]) and kept["payload"]["source_ref"] == fields["source_ref"]
