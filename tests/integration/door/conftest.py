"""The registry's door through the real path (issue 13, items 4 and 8): the registry and allocation
in-process on real PostgreSQL and a Kafka-protocol broker of this package's own. Programmes are
defined at allocation (POST /programmes, YAML) and reach the registry as ProgrammeDefined;
nominations come in over HTTP, as a list upload and on the inbound topic; answers are read where
officers and regency systems read them (HTTP answers, the replies topic, allocation's HTTP).

The business calendar is a clock file (LINDUNG_BUSINESS_CLOCK_FILE) set in March 2026: the 2026
programmes are running, a 2025 programme has ended.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from libs.clock import set_business_now
from libs.events import topics
from libs.events.envelope import Envelope
from libs.identity import worker_id_for
from libs.nik import compose_nik
from libs.regions import kecamatan_numbers
from libs.runtime.service import Runtime
from libs.settings import get_settings
from services.allocation.entrypoints.app import definition as allocation_definition
from services.registry.entrypoints.app import definition as registry_definition
from tests.conftest import package_infra  # noqa: F401  (`infra`: a broker of this package's own)
from tests.infra import Infra
from tests.running import eventually, read_matching
from tests.support.envelopes import envelope_of
from tests.support.kafka import produce
from tests.support.stack import in_process_stack

BIRTH = date(1985, 8, 17)
MARCH_2026 = datetime.fromisoformat("2026-03-02T09:00:00+07:00")


@dataclass
class Served:
    rt: Runtime
    http: httpx.AsyncClient


@dataclass
class Door:
    registry: Served
    allocation: Served
    bootstrap: str
    pepper: str
    clock: Path
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:6].upper())
    rng: random.Random = field(default_factory=random.Random)
    used: set[str] = field(default_factory=set)
    p3ke: dict[str, int] = field(default_factory=dict)
    dtks: set[str] = field(default_factory=set)

    def set_today(self, instant: datetime) -> None:
        set_business_now(self.clock, instant)

    def nik(self, regency: str = "12.17", kecamatan: int | None = None, sex: str = "L") -> str:
        """A fresh NIK issued in `regency` (in a kecamatan it has, unless `kecamatan` is given)."""
        while True:
            number = kecamatan if kecamatan is not None else self.rng.choice(kecamatan_numbers(regency))
            nik = compose_nik(regency, number, BIRTH, sex, self.rng.randint(1, 9999))
            if nik not in self.used:
                self.used.add(nik)
                return nik

    def worker_id(self, nik: str) -> str:
        return worker_id_for(nik, self.pepper)

    async def reference(self, p3ke: dict[str, int] | None = None, dtks: set[str] | None = None) -> None:
        """Add rows to the P3KE and DTKS extracts (an import replaces the whole extract)."""
        for kind, rows in (("p3ke", p3ke), ("dtks", dtks)):
            if not rows:
                continue
            if kind == "p3ke":
                assert isinstance(rows, dict)
                self.p3ke.update(rows)
                body = "nik,desil\n" + "".join(f"{n},{d}\n" for n, d in self.p3ke.items())
            else:
                self.dtks |= set(rows)
                body = "nik\n" + "".join(f"{n}\n" for n in sorted(self.dtks))
            answer = await self.registry.http.post(
                f"/reference/{kind}",
                content=body.encode(),
                params={"source": f"{kind}-{uuid.uuid4().hex}.csv"},
            )
            assert answer.status_code == 201, answer.text

    async def define(self, yaml_text: str) -> str:
        """Define a programme at allocation and wait until the registry knows it."""
        answer = await self.allocation.http.post(
            "/programmes", content=yaml_text.encode(), headers={"content-type": "application/yaml"}
        )
        assert answer.status_code == 201, answer.text
        code = str(answer.json()["programme_code"])

        async def known() -> bool:
            listed = (await self.registry.http.get("/programmes")).json()
            return any(p["programme_code"] == code for p in listed)

        await eventually(known, timeout_s=30)
        return code

    async def post(self, body: dict[str, Any]) -> httpx.Response:
        return await self.registry.http.post("/nominations", json=body)

    async def upload(self, programme: str, regency: str, rows: list[list[str]]) -> httpx.Response:
        header = "NIK,Nama,Tanggal Lahir,Jenis Kelamin,Pekerjaan,Kecamatan,Desa/Kelurahan,Sektor,Desil"
        text = "\n".join([header, *(",".join(r) for r in rows)]) + "\n"
        return await self.registry.http.post(
            "/nominations/upload",
            params={"programme": programme, "regency": regency},
            files={"file": (f"usulan-{uuid.uuid4().hex[:6]}.csv", text.encode(), "text/csv")},
        )

    async def submit(self, messages: list[tuple[str, str, dict[str, Any]]]) -> dict[str, Envelope]:
        """Publish NominationSubmitted payloads on the inbound topic as regency systems do
        ((source_ref, producer, payload): the payload as JSON, so a date that does not exist can be
        sent), and return the reply to each, by source_ref."""
        sent = [
            (
                ref,
                envelope_of(
                    None,
                    sender,
                    f"{sender}-{ref}",
                    event_type="NominationSubmitted",
                    payload={**payload, "source_ref": ref},
                ),
            )
            for ref, sender, payload in messages
        ]
        await produce(self.bootstrap, topics.NOMINATIONS_INBOUND, sent)
        keys = {ref.encode() for ref, _, _ in messages}

        async def published() -> bool:
            return await self.registry.rt.relay.unsent() == 0

        records = await read_matching(
            self.bootstrap, topics.NOMINATION_REPLIES, lambda r: r.key in keys, len(keys), timeout_s=40
        )
        await eventually(published)
        replies = {r.key.decode(): Envelope.from_bytes(r.value) for r in records}
        assert replies.keys() == {ref for ref, _, _ in messages}, replies.keys()
        return replies


@pytest.fixture(scope="package")
async def door(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Door]:
    clock = tmp_path_factory.mktemp("clock") / "now"
    set_business_now(clock, MARCH_2026)
    services = {"registry": registry_definition, "allocation": allocation_definition}
    async with (
        in_process_stack(
            infra,
            "lindung_door",
            services,
            partitions=None,
            schemas=services,
            env={"LINDUNG_BUSINESS_CLOCK_FILE": str(clock)},
        ) as stack,
        stack.client("registry") as registry,
        stack.client("allocation") as allocation,
    ):
        yield Door(
            Served(stack.runtimes["registry"], registry),
            Served(stack.runtimes["allocation"], allocation),
            infra.bootstrap,
            get_settings().nik_pepper,
            clock,
        )
