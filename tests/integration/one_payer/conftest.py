"""One payer per worker through the real path (issue 13, items 3, 5 and 8): the registry's HTTP
API, allocation, enrollment and the BPJS simulator running in-process on real PostgreSQL and a
Kafka-protocol broker of this package's own.

One stack for the package (`stack`): registry, enrollment and the simulator start at once;
allocation starts when a test first asks for it (`Stack.allocation`) and may be stopped and
started again (`Stack.stop_allocation`), so a test can post nominations while allocation is down
and see them decided in one consumer batch. The stack's
business calendar is a clock file set in 2025 (the Labuhanbatu programmes' year).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka.partitioner import DefaultPartitioner

from libs.identity import worker_id_for
from libs.nik import compose_nik
from libs.regions.places import desa_of_regency
from libs.runtime.service import Runtime
from libs.settings import get_settings
from services.allocation.entrypoints.app import definition as allocation_definition
from services.bpjs_simulator.domain.insurer import InsurerBehaviour, nik_not_found
from services.bpjs_simulator.entrypoints.app import behaviour_from
from services.bpjs_simulator.entrypoints.app import definition as simulator_definition
from services.enrollment.entrypoints.app import definition as enrollment_definition
from services.registry.entrypoints.app import definition as registry_definition
from tests.conftest import package_infra  # noqa: F401  (`infra`: a broker of this package's own)
from tests.infra import Infra
from tests.running import eventually
from tests.support.stack import InProcess, in_process_stack

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"
BIRTH = date(1984, 6, 12)
ENV = {
    # Half of the NIKs are unknown to the simulator's civil registry: tests pick NIKs that BPJS
    # accepts or refuses (deterministic per NIK and seed).
    "LINDUNG_BPJS_NIK_NOT_FOUND_PER_MILLION": "500000",
    "LINDUNG_BPJS_SEED": "13",
    "LINDUNG_BPJS_MIN_DELAY_MS": "0",
    "LINDUNG_BPJS_MAX_DELAY_MS": "0",
    "LINDUNG_ENROLLMENT_CLOCK_INTERVAL_MS": "200",
    "LINDUNG_ENROLLMENT_LAPSE_CHECK_INTERVAL_S": "0",
}


@dataclass
class Served:
    rt: Runtime
    http: httpx.AsyncClient


@dataclass
class Stack:
    registry: Served
    enrollment: Served
    bootstrap: str
    pepper: str
    behaviour: InsurerBehaviour
    services: InProcess
    p3ke: dict[str, int] = field(default_factory=dict)
    rng: random.Random = field(default_factory=random.Random)
    used: set[str] = field(default_factory=set)
    _allocation: Served | None = None

    async def allocation(self) -> Served:
        """Allocation, started on first use (and kept until stopped)."""
        if self._allocation is None:
            self.services.definitions["allocation"] = allocation_definition()  # the settings of now
            rt = await self.services.start("allocation")
            self._allocation = Served(rt, self.services.client("allocation"))
        return self._allocation

    async def stop_allocation(self) -> None:
        if self._allocation is not None:
            await self._allocation.http.aclose()
            await self.services.stop("allocation")
        self._allocation = None

    async def registry_published(self) -> None:
        """Wait until the registry's relay has published every event it recorded."""

        async def empty() -> bool:
            return await self.registry.rt.relay.unsent() == 0

        await eventually(empty, timeout_s=30)

    # --- people and reference data ---------------------------------------------------------------

    def nik(self, regency: str = "12.10", *, bpjs_accepts: bool = True) -> str:
        """A fresh NIK issued in `regency`'s first kecamatan that BPJS accepts (or refuses)."""
        kecamatan = int(desa_of_regency(regency)[0].kecamatan_code.split(".")[2])
        while True:
            nik = compose_nik(regency, kecamatan, BIRTH, "L", self.rng.randint(1, 9999))
            if nik not in self.used and nik_not_found(nik, self.behaviour) is not bpjs_accepts:
                self.used.add(nik)
                return nik

    def worker_id(self, nik: str) -> str:
        return worker_id_for(nik, self.pepper)

    def partition(self, nik: str) -> int:
        """The partition of `lindung.registry.v1` the worker's events land on (keyed by worker id)."""
        partitions = list(range(get_settings().topic_partitions))
        return int(DefaultPartitioner()(self.worker_id(nik).encode(), partitions, partitions))

    async def in_p3ke(self, desil: dict[str, int]) -> None:
        """Add rows to the P3KE extract (each import replaces the whole extract)."""
        self.p3ke.update(desil)
        body = "nik,desil\n" + "".join(f"{nik},{d}\n" for nik, d in self.p3ke.items())
        answer = await self.registry.http.post(
            "/reference/p3ke", content=body.encode(), params={"source": f"p3ke-{uuid.uuid4().hex[:6]}.csv"}
        )
        assert answer.status_code == 201, answer.text

    # --- programmes ---------------------------------------------------------------------------------

    async def define(self, yaml_text: str) -> str:
        """Define a programme at allocation (POST /programmes) and wait until the registry knows it."""
        alloc = await self.allocation()
        answer = await alloc.http.post(
            "/programmes", content=yaml_text.encode(), headers={"content-type": "application/yaml"}
        )
        assert answer.status_code in (200, 201), answer.text
        code = str(answer.json()["programme_code"]) if "programme_code" in answer.json() else _code(yaml_text)

        async def known() -> bool:
            listed = (await self.registry.http.get("/programmes")).json()
            return any(p.get("programme_code") == code for p in listed)

        await eventually(known, timeout_s=30)
        return code

    # --- nominations ---------------------------------------------------------------------------------

    async def nominate(self, programme: str, nik: str, **fields: Any) -> dict[str, Any]:
        desa = desa_of_regency("12.10")[0]
        body = {
            "programme_code": programme,
            "nik": nik,
            "full_name": "Parulian Hasibuan",
            "birth_date": BIRTH.isoformat(),
            "sex": "L",
            "occupation": "pekerja sawit",
            "regency_code": "12.10",
            "kecamatan": _kecamatan_name(desa.kecamatan_code),
            "desa": desa.name,
            "sector": "sawit",
            **fields,
        }
        answer = await self.registry.http.post("/nominations", json=body)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    async def nominate_seated(self, programme: str, nik: str) -> dict[str, Any]:
        """Nominate through the registry, and wait until allocation seated the worker and the
        registry heard so."""
        result = await self.nominate(programme, nik)
        assert result["status"] == "validated", result
        assert (await self.assignment(programme, nik))["status"] == "assigned"
        await self.seat_in_registry(result["nomination_id"], "assigned")
        return result

    async def assignment(self, programme: str, nik: str, timeout_s: float = 30) -> dict[str, Any]:
        """The worker's row at allocation (GET /programmes/{code}/assignments), once decided."""
        alloc = await self.allocation()
        worker = self.worker_id(nik)

        async def decided() -> dict[str, Any] | None:
            answer = await alloc.http.get(f"/programmes/{programme}/assignments", params={"limit": 5000})
            rows = answer.json()
            return next((r for r in rows if r["worker_id"] == worker), None)

        found: dict[str, Any] = await eventually(decided, timeout_s=timeout_s)
        return found

    async def assignment_becomes(
        self, programme: str, nik: str, status: str, timeout_s: float = 30
    ) -> dict[str, Any]:
        async def there() -> dict[str, Any] | None:
            row = await self.assignment(programme, nik, timeout_s)
            return row if row["status"] == status else None

        found: dict[str, Any] = await eventually(there, timeout_s=timeout_s)
        return found

    async def seat_in_registry(self, nomination_id: str, seat: str, timeout_s: float = 30) -> None:
        """Wait until the registry has heard allocation's (or enrollment's) outcome `seat`."""
        from sqlalchemy import select

        from services.registry.adapters.tables import nominations

        async def heard() -> bool:
            async with self.registry.rt.engine.connect() as conn:
                row = (
                    await conn.execute(
                        select(nominations.c.seat).where(nominations.c.nomination_id == nomination_id)
                    )
                ).first()
            return row is not None and row.seat == seat

        await eventually(heard, timeout_s=timeout_s)


def _code(yaml_text: str) -> str:
    return next(line.split(":", 1)[1].strip() for line in yaml_text.splitlines() if line.startswith("code:"))


def _kecamatan_name(code: str) -> str:
    from libs.regions.places import kecamatan_by_code

    found = kecamatan_by_code(code)
    assert found is not None
    return found.name


@pytest.fixture(scope="package")
async def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    clock = tmp_path_factory.mktemp("clock") / "now"
    clock.write_text("2025-02-03T09:00:00+07:00", encoding="utf-8")
    env = {"LINDUNG_BUSINESS_CLOCK_FILE": str(clock), **ENV}
    # Allocation is started by the tests (Stack.allocation), the others at once.
    services = {
        "registry": registry_definition,
        "bpjs_simulator": simulator_definition,
        "enrollment": enrollment_definition,
    }
    schemas = ["registry", "allocation", "enrollment", "bpjs_simulator"]
    async with (
        in_process_stack(
            infra, "lindung_one_payer", services, partitions=None, env=env, schemas=schemas
        ) as started,
        started.client("registry") as registry,
        started.client("enrollment") as enrollment,
    ):
        settings = get_settings()
        stack = Stack(
            Served(started.runtimes["registry"], registry),
            Served(started.runtimes["enrollment"], enrollment),
            infra.bootstrap,
            settings.nik_pepper,
            behaviour_from(settings),
            started,
        )
        try:
            yield stack
        finally:
            await stack.stop_allocation()
