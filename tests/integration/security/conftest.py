"""Every service in-process with API keys for the four roles, over the package's own broker.

Registry, allocation, enrollment, claims, the BPJS simulator and the dashboard run through their
real lifespans (consumers, relays) on a fresh database, with LINDUNG_API_KEYS holding a province
admin, a regency officer bound to 12.17 (Samosir), BPJS and an auditor (SHA-256 hashes only). The
routes are called through httpx's ASGI transport with each role's bearer key.

The run, once for the package: the admin defines a programme with seats in Samosir and Medan
(12.71) and imports a P3KE extract; six workers are nominated (in each regency one validated and
enrolled, one rejected for their decile, and one more validated); BPJS pushes a claim for each
enrolled worker through the simulator; the admin signs a decree. Every service's read model then
holds data of both regencies, so a listing scoped to one regency shows it.
"""

from __future__ import annotations

import asyncio
import json
import secrets
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.auth import hash_key
from libs.identity import worker_id_for
from libs.nik import compose_nik
from libs.runtime.migrate import SERVICES_WITH_SCHEMAS
from libs.runtime.service import Runtime
from libs.settings import get_settings
from lindung_cli.status import consumer_lag
from tests.conftest import package_infra  # noqa: F401  (`infra`: a broker of this package's own)
from tests.infra import Infra, run_id
from tests.running import eventually
from tests.support.stack import in_process_stack

SAMOSIR, MEDAN = "12.17", "12.71"
SECTOR = {SAMOSIR: "non_sawit", MEDAN: "sawit"}
ROLES = ("admin", "officer", "bpjs", "auditor")
KEYS = {role: secrets.token_urlsafe(32) for role in ROLES}
API_KEYS = json.dumps(
    [
        {"key_sha256": hash_key(KEYS["admin"]), "role": "province_admin", "name": "Admin Disnaker Provinsi"},
        {
            "key_sha256": hash_key(KEYS["officer"]),
            "role": "regency_officer",
            "regency": SAMOSIR,
            "name": "Petugas Disnaker Samosir",
        },
        {"key_sha256": hash_key(KEYS["bpjs"]), "role": "bpjs", "name": "BPJS Ketenagakerjaan"},
        {"key_sha256": hash_key(KEYS["auditor"]), "role": "auditor", "name": "Auditor Inspektorat"},
    ]
)
RUN = run_id()  # in test ids: the same in every xdist worker
PROGRAMME = f"AKSES-{RUN}-2026"
PROGRAMME_YAML = f"""
code: {PROGRAMME}
name: Uji hak akses 2026
year: 2026
funder: APBD_PROVINSI
jurisdiction: "12"
coverage_start: 2026-01-01
budget_cap: 100000000
allowed_deciles: [1, 2]
decree_kind: SK_GUBERNUR
requires_decree: false
# A worker is nominated by the regency that issued the NIK (the officer tests rely on it).
nik_regency_must_match: true
quotas:
  - {{regency: "{SAMOSIR}", sector: non_sawit, seats: 10}}
  - {{regency: "{MEDAN}", sector: sawit, seats: 10}}
"""
AUDITOR_MESSAGE = "Auditor hanya dapat membaca; akun ini tidak dapat mengubah data."


@dataclass
class Person:
    """A worker of the run, and what the services gave them."""

    key: str
    regency: str
    nik: str
    full_name: str
    birth: date
    sex: str
    decile: int
    nomination_id: str = ""
    status: str = ""
    kpj: str | None = None
    claim_id: str | None = None

    @property
    def worker_id(self) -> str:
        return worker_id_for(self.nik, get_settings().nik_pepper)

    def nomination(self, **changes: Any) -> dict[str, Any]:
        return {
            "programme_code": PROGRAMME,
            "nik": self.nik,
            "full_name": self.full_name,
            "birth_date": self.birth.isoformat(),
            "sex": self.sex,
            "occupation": "petani",
            "regency_code": self.regency,
            "kecamatan": "Pangururan" if self.regency == SAMOSIR else "Medan Kota",
            "desa": "Lumban Suhi Suhi" if self.regency == SAMOSIR else "Pasar Merah",
            "sector": SECTOR[self.regency],
            **changes,
        }


# Nominated over HTTP by the admin while seeding: three workers per regency, enrolled, rejected
# (decile 3) and validated (to withdraw).
SEEDED = (
    "samosir_enrolled",
    "samosir_rejected",
    "samosir_spare",
    "medan_enrolled",
    "medan_rejected",
    "medan_spare",
)


def people() -> dict[str, Person]:
    """The run's workers: those SEEDED, and some in the P3KE extract that the tests nominate."""
    names = {
        "samosir_enrolled": (SAMOSIR, "Sahat Malau", 1),
        "samosir_rejected": (SAMOSIR, "Rosmawati Sinaga", 3),
        "samosir_spare": (SAMOSIR, "Togar Simbolon", 2),
        "medan_enrolled": (MEDAN, "Butet Manurung", 1),
        "medan_rejected": (MEDAN, "Lamhot Sitanggang", 3),
        "medan_spare": (MEDAN, "Uli Situmorang", 2),
        "samosir_by_officer": (SAMOSIR, "Poltak Naibaho", 1),
        "samosir_uploaded": (SAMOSIR, "Tiurma Gultom", 1),
        "medan_by_officer": (MEDAN, "Darwin Pasaribu", 1),
        "samosir_inbound": (SAMOSIR, "Marulak Sidabutar", 1),
        "medan_inbound": (MEDAN, "Rugun Hutagalung", 1),
        "samosir_from_bpjs": (SAMOSIR, "Jonggi Sirait", 1),
    }
    found = {}
    for serial, (key, (regency, name, decile)) in enumerate(names.items(), start=101):
        birth = date(1980 + serial % 10, 1 + serial % 12, 1 + serial % 27)
        sex = "L" if serial % 2 else "P"
        nik = compose_nik(regency, 3, birth, sex, serial)
        found[key] = Person(key, regency, nik, name, birth, sex, decile)
    return found


@dataclass
class Stack:
    """The running services and the run's data."""

    apps: dict[str, FastAPI]
    runtimes: dict[str, Runtime]
    engine: AsyncEngine
    bootstrap: str
    people: dict[str, Person]
    decree_version: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str, role: str | None) -> httpx.AsyncClient:
        """An HTTP client of `service` holding `role`'s key (None: no key at all)."""
        headers = {"Authorization": f"Bearer {KEYS[role]}"} if role else {}
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.apps[service]),
            base_url=f"http://{service}",
            headers=headers,
            timeout=60,
        )

    async def call(self, service: str, role: str | None, method: str, path: str, **kw: Any) -> httpx.Response:
        async with self.client(service, role) as http:
            return await http.request(method, path, **kw)

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar_one()

    async def rows(self, sql: str, **params: Any) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(text(sql), params)).all())

    async def events(self, schema: str) -> int:
        return int(await self.scalar(f"SELECT count(*) FROM {schema}.events"))


@pytest.fixture(scope="package")
async def stack(infra: Infra) -> AsyncIterator[Stack]:
    async with in_process_stack(infra, "lindung_security", env={"LINDUNG_API_KEYS": API_KEYS}) as services:
        found = Stack(services.apps, services.runtimes, services.engine, infra.bootstrap, people())
        await seed(found)
        yield found


async def expect(reply: httpx.Response, *statuses: int) -> Any:
    assert reply.status_code in statuses, f"{reply.request.method} {reply.request.url}: {reply.text}"
    return reply.json()


async def seed(stack: Stack) -> None:
    yaml = {"content-type": "application/yaml"}
    await expect(
        await stack.call("allocation", "admin", "POST", "/programmes", content=PROGRAMME_YAML, headers=yaml),
        201,
    )

    async def registry_knows() -> bool:
        sql = "SELECT count(*) FROM registry.programmes WHERE programme_code = :p"
        return bool(await stack.scalar(sql, p=PROGRAMME))

    await eventually(registry_knows, timeout_s=30)
    extract = "nik,desil\n" + "".join(f"{p.nik},{p.decile}\n" for p in stack.people.values())
    await expect(
        await stack.call("registry", "admin", "POST", "/reference/p3ke", content=extract.encode()), 201
    )
    for person in (stack.people[key] for key in SEEDED):
        answer = await expect(
            await stack.call("registry", "admin", "POST", "/nominations", json=person.nomination()), 201
        )
        person.nomination_id, person.status = answer["nomination_id"], answer["status"]
        assert person.status == ("rejected" if person.decile == 3 else "validated"), (person.key, answer)
    enrolled = [stack.people["samosir_enrolled"], stack.people["medan_enrolled"]]
    spares = [stack.people["samosir_spare"], stack.people["medan_spare"]]
    await _wait_enrolled(stack, enrolled + spares)

    async def claims_knows_them() -> bool:
        # A claim for someone claims has not seen enrolled yet would be an unknown participant's.
        sql = "SELECT count(*) FROM claims.coverage WHERE worker_id = ANY(:ids)"
        return int(await stack.scalar(sql, ids=[p.worker_id for p in enrolled])) == len(enrolled)

    await eventually(claims_knows_them, timeout_s=30)
    for person in enrolled:
        person.claim_id = f"CLM-{RUN}-{person.key}"
        body = {
            "kpj": person.kpj,
            "programme": "JKK",
            "benefit_kind": "MEDICAL",
            "incident_date": "2026-06-01",
            "amount": 1_500_000,
            "claim_id": person.claim_id,
        }
        # BPJS pushes a claim: one of the things BPJS may do.
        await expect(await stack.call("bpjs_simulator", "bpjs", "POST", "/control/claims", json=body), 202)
    decree = {"number": f"188.44/{RUN}/KPTS/2026", "date": "2026-02-01", "signer": "Gubernur Sumatera Utara"}
    issued = await expect(
        await stack.call("allocation", "admin", "POST", f"/programmes/{PROGRAMME}/decrees", json=decree), 201
    )
    stack.decree_version = int(issued.get("version", 1))

    async def claims_recorded() -> bool:
        sql = "SELECT count(*) FROM claims.claims WHERE claim_id = ANY(:ids) AND regency_code IS NOT NULL"
        return int(await stack.scalar(sql, ids=[p.claim_id for p in enrolled])) == 2

    await eventually(claims_recorded, timeout_s=30)

    async def dashboard_caught_up() -> bool:
        reply = await stack.call("dashboard", "admin", "GET", f"/api/programmes/{PROGRAMME}/summary")
        if reply.status_code != 200:
            return False
        totals = reply.json()["totals"]
        return bool(totals["nominated"] == len(SEEDED) and totals["enrolled"] == 4 and totals["claims"] == 2)

    await eventually(dashboard_caught_up, timeout_s=30)


async def _wait_enrolled(stack: Stack, persons: Iterable[Person]) -> None:
    wanted = {p.worker_id: p for p in persons}

    async def all_enrolled() -> bool:
        rows = await stack.rows(
            "SELECT worker_id, kpj FROM enrollment.registrations"
            " WHERE status = 'enrolled' AND worker_id = ANY(:ids)",
            ids=list(wanted),
        )
        for row in rows:
            wanted[row.worker_id].kpj = row.kpj
        return len(rows) == len(wanted)

    await eventually(all_enrolled, timeout_s=45)


async def settle(stack: Stack) -> None:
    """Wait until the run is still: no outbox row unsent, no consumer lag, counts unchanged."""

    async def snapshot() -> tuple[int, ...]:
        values: list[int] = []
        for schema in SERVICES_WITH_SCHEMAS:
            values += list(
                (
                    await stack.rows(
                        f"SELECT (SELECT count(*) FROM {schema}.events),"
                        f" (SELECT count(*) FROM {schema}.inbox),"
                        f" (SELECT count(*) FROM {schema}.outbox WHERE sent_at IS NULL)"
                    )
                )[0]
            )
        return tuple(values)

    async def quiet() -> bool:
        before = await snapshot()
        if any(before[2::3]):
            return False
        lags = await consumer_lag(stack.bootstrap)
        if any(lags.get(group) for group in SERVICES_WITH_SCHEMAS):
            return False
        await asyncio.sleep(0.3)
        return await snapshot() == before

    await eventually(quiet, timeout_s=60, interval_s=0.2)
