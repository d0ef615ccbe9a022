"""Registry, allocation, enrollment and the BPJS simulator in-process, on a fresh database and the
package's own broker, sharing one business clock (LINDUNG_BUSINESS_CLOCK_FILE) the tests move.

Officers act where they would: programmes through allocation's HTTP API, the P3KE extract,
nominations and withdrawals through the registry's, bills and coverage through enrollment's; the
simulator answers on the BPJS topics. One stack for the package (one module uses it).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.clock import set_business_now
from libs.identity import worker_id_for
from libs.nik import compose_nik
from libs.runtime.service import Runtime
from libs.settings import get_settings
from services.allocation.entrypoints.app import definition as allocation
from services.bpjs_simulator.entrypoints.app import definition as bpjs_simulator
from services.enrollment.entrypoints.app import definition as enrollment
from services.registry.entrypoints.app import definition as registry
from tests.conftest import package_infra  # noqa: F401  (`infra`: a broker of this package's own)
from tests.infra import Infra
from tests.running import eventually
from tests.support.stack import in_process_stack

WIB = ZoneInfo("Asia/Jakarta")
SAMOSIR = "12.17"
SERVICES = {
    "registry": registry,
    "allocation": allocation,
    "enrollment": enrollment,
    "bpjs_simulator": bpjs_simulator,
}
ENV = {
    # An unanswered attempt (the simulator's outage) is retried after 3 s, for long enough.
    "LINDUNG_ENROLLMENT_ANSWER_TIMEOUT_S": "3",
    "LINDUNG_ENROLLMENT_RETRY_BASE_S": "1",
    "LINDUNG_ENROLLMENT_RETRY_MAX_S": "2",
    "LINDUNG_ENROLLMENT_RETRY_MAX_ATTEMPTS": "40",
    "LINDUNG_ENROLLMENT_CLOCK_INTERVAL_MS": "200",
    # Lapses and ends of membership are swept when a test asks (POST /coverage/lapses).
    "LINDUNG_ENROLLMENT_LAPSE_CHECK_INTERVAL_S": "0",
    "LINDUNG_TOPIC_PARTITIONS": "2",
}


@dataclass(frozen=True)
class Person:
    key: str
    nik: str
    full_name: str
    birth: date
    sex: str

    @property
    def worker_id(self) -> str:
        return worker_id_for(self.nik, get_settings().nik_pepper)


def people(names: list[str]) -> dict[str, Person]:
    """Samosir workers (desil 1 in the P3KE extract), one per name."""
    found = {}
    for serial, key in enumerate(names, start=301):
        birth = date(1975 + serial % 15, 1 + serial % 12, 1 + serial % 27)
        sex = "L" if serial % 2 else "P"
        nik = compose_nik(SAMOSIR, 8, birth, sex, serial)
        found[key] = Person(key, nik, f"Pekerja {key.title()}", birth, sex)
    return found


@dataclass
class Stack:
    apps: dict[str, FastAPI]
    runtimes: dict[str, Runtime]
    engine: AsyncEngine
    bootstrap: str
    clock_file: Path
    run: str

    def set_day(self, day: date) -> None:
        set_business_now(self.clock_file, datetime.combine(day, time(9), tzinfo=WIB))

    def set_day_iso(self, day: str) -> None:
        self.set_day(date.fromisoformat(day))

    async def call(self, service: str, method: str, path: str, **kw: Any) -> httpx.Response:
        transport = httpx.ASGITransport(app=self.apps[service])
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{service}", timeout=60) as http:
            return await http.request(method, path, **kw)

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())


@pytest.fixture(scope="package")
async def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    clock_file = tmp_path_factory.mktemp("clock") / "business-now"
    set_business_now(clock_file, datetime(2025, 1, 6, 9, tzinfo=WIB))
    env = {"LINDUNG_BUSINESS_CLOCK_FILE": str(clock_file), **ENV}
    async with in_process_stack(infra, "lindung_releases", SERVICES, env=env, schemas=SERVICES) as started:
        yield Stack(
            started.apps,
            started.runtimes,
            started.engine,
            infra.bootstrap,
            clock_file,
            uuid.uuid4().hex[:5].upper(),
        )


async def expect(reply: httpx.Response, *statuses: int) -> Any:
    assert reply.status_code in statuses, f"{reply.request.method} {reply.request.url}: {reply.text}"
    return reply.json()


async def define_programme(
    stack: Stack, code: str, year: int, seats: int, budget_cap: int = 100_000_000
) -> None:
    """The admin defines a programme (allocation's HTTP API, YAML) and the registry learns it."""
    body = f"""
code: {code}
name: Uji pelepasan {code}
year: {year}
funder: APBD_KABUPATEN
jurisdiction: "{SAMOSIR}"
coverage_start: {year}-01-01
budget_cap: {budget_cap}
allowed_deciles: [1, 2]
decree_kind: SK_BUPATI
requires_decree: false
quotas:
  - {{regency: "{SAMOSIR}", sector: non_sawit, seats: {seats}}}
"""
    await expect(
        await stack.call(
            "allocation", "POST", "/programmes", content=body, headers={"content-type": "application/yaml"}
        ),
        201,
    )

    async def known() -> bool:
        found = await stack.rows("SELECT 1 FROM registry.programmes WHERE programme_code = :p", p=code)
        enrolled = await stack.rows("SELECT 1 FROM enrollment.programmes WHERE programme_code = :p", p=code)
        return bool(found and enrolled)

    await eventually(known, timeout_s=30)


async def import_p3ke(stack: Stack, persons: list[Person]) -> None:
    extract = "nik,desil\n" + "".join(f"{p.nik},1\n" for p in persons)
    await expect(await stack.call("registry", "POST", "/reference/p3ke", content=extract.encode()), 201)


async def nominate(stack: Stack, person: Person, programme: str) -> str:
    """POST /nominations; the worker is validated; returns the nomination id."""
    body = {
        "programme_code": programme,
        "nik": person.nik,
        "full_name": person.full_name,
        "birth_date": person.birth.isoformat(),
        "sex": person.sex,
        "occupation": "petani",
        "regency_code": SAMOSIR,
        "kecamatan": "Pangururan",
        "desa": "Pintu Sona",
        "sector": "non_sawit",
    }
    answer = await expect(await stack.call("registry", "POST", "/nominations", json=body), 201)
    assert answer["status"] == "validated", answer
    return str(answer["nomination_id"])


async def registration(stack: Stack, person: Person, programme: str) -> dict[str, Any] | None:
    """The worker's registration under `programme` as GET /enrollments/{worker_id} shows it."""
    reply = await stack.call("enrollment", "GET", f"/enrollments/{person.worker_id}")
    if reply.status_code == 404:
        return None
    found = [r for r in await expect(reply, 200) if r["programme_code"] == programme]
    return found[0] if found else None


async def wait_status(stack: Stack, person: Person, programme: str, *statuses: str) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        found = await registration(stack, person, programme)
        return found if found is not None and found["status"] in statuses else None

    result: dict[str, Any] = await eventually(reached, timeout_s=60, interval_s=0.2)
    return result


async def bill(stack: Stack, programme: str, month: str) -> dict[str, Any]:
    """POST /premiums/bills, then wait until BPJS answered every line of the month."""
    created = await expect(
        await stack.call(
            "enrollment", "POST", "/premiums/bills", json={"programme_code": programme, "month": month}
        ),
        201,
    )

    async def settled() -> dict[str, Any] | None:
        summary = await expect(
            await stack.call(
                "enrollment", "GET", "/premiums/bills", params={"programme": programme, "month": month}
            ),
            200,
        )
        return summary if summary["settled"] else None

    summary: dict[str, Any] = await eventually(settled, timeout_s=60, interval_s=0.2)
    assert summary["bills"]["failed"] == 0, summary
    return {"created": created["created"], **summary}


async def sweep(stack: Stack) -> int:
    """POST /coverage/lapses as of the business day: lapses and ends of membership recorded."""
    return int((await expect(await stack.call("enrollment", "POST", "/coverage/lapses"), 200))["recorded"])


async def coverage(stack: Stack, person: Person, on: str) -> dict[str, Any]:
    reply = await stack.call("enrollment", "POST", "/coverage", json={"nik": person.nik, "on": on})
    found: dict[str, Any] = await expect(reply, 200)
    return found
