"""The registry through its real path, one service start per test module.

`registry` migrates a fresh database, starts the service in-process (consumer, relay, HTTP routes
over an ASGI transport), defines a programme the way allocation does (ProgrammeDefined on
`lindung.allocation.v1`) and imports a P3KE extract through the HTTP API.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from libs.clock import set_business_now
from libs.events import topics
from libs.events.contracts.allocation import ProgrammeDefined, QuotaCell
from libs.events.contracts.common import Funder
from libs.events.envelope import Envelope
from libs.nik import compose_nik
from libs.regions import kecamatan_of_regency
from libs.runtime.service import Runtime
from services.registry.adapters.tables import eventstore, programmes
from services.registry.entrypoints.app import definition
from tests.conftest import package_infra  # noqa: F401  (`infra`: a broker of this package's own)
from tests.infra import Infra
from tests.running import eventually
from tests.support.envelopes import envelope_of
from tests.support.kafka import produce
from tests.support.stack import partial_stack

OCCUPATIONS = [
    "petani", "nelayan", "sopir", "pemulung", "tukang becak", "juru parkir", "buruh harian lepas",
    "pedagang kaki lima", "pedagang keliling", "pekerja sosial keagamaan", "pekerja sawit", "lainnya",
]  # fmt: skip


class Niks:
    """Valid, unique NIKs for one test module (serials drawn at random: topics outlive databases)."""

    def __init__(self) -> None:
        self.rng = random.Random()
        self.used: set[str] = set()

    def new(self, regency: str = "12.17", birth: date = date(1985, 8, 17), sex: str = "L") -> str:
        # A kecamatan of the regency: the registry refuses a NIK naming one that does not exist.
        kecamatan = [int(k.code[-2:]) for k in kecamatan_of_regency(regency)]
        while True:
            nik = compose_nik(regency, self.rng.choice(kecamatan), birth, sex, self.rng.randint(1, 9999))
            if nik not in self.used:
                self.used.add(nik)
                return nik


def programme_defined(
    code: str, funder: Funder = Funder.APBD_PROVINSI, start: date = date(2026, 1, 1)
) -> Envelope:
    event = ProgrammeDefined(
        programme_code=code,
        name=f"Test programme {code}",
        year=start.year,
        funder=funder,
        jurisdiction="12",
        premium_jkk=10_000,
        premium_jkm=6_800,
        months=12,
        coverage_start=start,
        coverage_end=date(start.year, 12, 31),
        budget_cap=4_210_000_000,
        allowed_deciles=[1, 2],
        age_min=15,
        age_max=65,
        occupations=OCCUPATIONS,
        requires_decree=True,
        quotas=[QuotaCell(regency_code="12.17", sector="non_sawit", seats=100)],
    )
    return envelope_of(event, "allocation", f"programme-{code}")


@dataclass
class Registry:
    rt: Runtime
    http: httpx.AsyncClient
    bootstrap: str
    programme: str
    niks: Niks = field(default_factory=Niks)
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])

    async def count_events(self) -> int:
        async with self.rt.engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(eventstore.events))).scalar_one())

    async def drained(self) -> None:
        async def empty() -> bool:
            return await self.rt.relay.unsent() == 0

        await eventually(empty)

    async def define(self, code: str, funder: Funder = Funder.APBD_PROVINSI) -> None:
        await produce(
            self.bootstrap, topics.ALLOCATION, [(code.encode(), programme_defined(code, funder).to_bytes())]
        )

        async def known() -> bool:
            async with self.rt.engine.connect() as conn:
                row = await conn.execute(select(programmes).where(programmes.c.programme_code == code))
                return row.first() is not None

        await eventually(known)

    async def import_p3ke(self, rows: dict[str, int]) -> dict[str, Any]:
        body = "nik,desil\n" + "".join(f"{nik},{desil}\n" for nik, desil in rows.items())
        answer = await self.http.post("/reference/p3ke", content=body.encode(), params={"source": "p3ke.csv"})
        assert answer.status_code == 201, answer.text
        result: dict[str, Any] = answer.json()
        return result


@pytest.fixture(scope="module")
async def registry(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Registry]:
    # Small upload batches: a short file already crosses batch boundaries.
    # The business calendar inside the test programmes' year (2026), whatever the machine's date:
    # the registry refuses nominations for a programme whose coverage has ended.
    clock = tmp_path_factory.mktemp("clock") / "now"
    set_business_now(clock, datetime.fromisoformat("2026-03-02T09:00:00+07:00"))
    env = {"LINDUNG_REGISTRY_UPLOAD_BATCH_SIZE": "4", "LINDUNG_BUSINESS_CLOCK_FILE": str(clock)}
    services = {"registry": definition}
    async with (
        partial_stack(infra, services, env=env) as started,
        started.client("registry", timeout=120) as http,
    ):
        reg = Registry(started.runtimes["registry"], http, infra.bootstrap, programme="")
        reg.programme = f"TEST-{reg.run.upper()}"
        await reg.define(reg.programme)
        yield reg
