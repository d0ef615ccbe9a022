"""Every service in-process, each signing with its own key and verifying with one keyring.

Keys are made for the run (`Signer.generate`), written to a temporary folder, and given to each
service through the settings it reads at start (LINDUNG_EVENT_SIGNING_KEY_FILE / _KEY_ID, one
pair per service; LINDUNG_EVENT_KEYRING_FILE the same for all). The test itself holds the keys of
the systems outside Lindung: BPJS's gateway (two keys, for a rotation) and the regency systems of
Samosir (12.17) and Medan (12.71). One stack for the package: two would share consumer groups.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from libs.events.envelope import Envelope
from libs.events.signing import Signer, TrustedKey, keyring_json
from libs.nik import compose_nik
from libs.runtime.migrate import SERVICES_WITH_SCHEMAS
from tests.conftest import package_infra  # noqa: F401  (`infra`: a broker of this package's own)
from tests.infra import Infra, run_id
from tests.running import eventually
from tests.support.kafka import produce
from tests.support.stack import InProcess, in_process_stack

SAMOSIR, MEDAN = "12.17", "12.71"
RUN = run_id()
PROGRAMME = f"TTD-{RUN}-2026"
PROGRAMME_YAML = f"""
code: {PROGRAMME}
name: Uji pesan bertanda tangan 2026
year: 2026
funder: APBD_PROVINSI
jurisdiction: "12"
coverage_start: 2026-01-01
budget_cap: 100000000
allowed_deciles: [1, 2]
decree_kind: SK_GUBERNUR
requires_decree: false
nik_regency_must_match: true
quotas:
  - {{regency: "{SAMOSIR}", sector: non_sawit, seats: 10}}
  - {{regency: "{MEDAN}", sector: sawit, seats: 10}}
"""


SECTOR = {SAMOSIR: "non_sawit", MEDAN: "sawit"}
PLACE = {SAMOSIR: ("Pangururan", "Lumban Suhi Suhi"), MEDAN: ("Medan Kota", "Pasar Merah")}


@dataclass(frozen=True)
class Person:
    regency: str
    nik: str
    full_name: str
    birth: date
    sex: str

    def nomination(self, **changes: Any) -> dict[str, Any]:
        kecamatan, desa = PLACE[self.regency]
        return {
            "programme_code": PROGRAMME,
            "nik": self.nik,
            "full_name": self.full_name,
            "birth_date": self.birth.isoformat(),
            "sex": self.sex,
            "occupation": "petani",
            "regency_code": self.regency,
            "kecamatan": kecamatan,
            "desa": desa,
            "sector": SECTOR[self.regency],
            **changes,
        }


def _people() -> dict[str, Person]:
    names = {
        "flow": (SAMOSIR, "Sahat Malau"),
        "medan_by_samosir": (MEDAN, "Butet Manurung"),
        "medan_own": (MEDAN, "Lamhot Sitanggang"),
    }
    found = {}
    for serial, (key, (regency, name)) in enumerate(names.items(), start=301):
        birth = date(1980 + serial % 10, 1 + serial % 12, 1 + serial % 27)
        sex = "L" if serial % 2 else "P"
        found[key] = Person(regency, compose_nik(regency, 3, birth, sex, serial), name, birth, sex)
    return found


PEOPLE = _people()


@dataclass
class Keys:
    """The run's keys: one per service, and those the test signs with as a foreign system."""

    folder: Path
    services: dict[str, Signer]
    bpjs_old: Signer
    bpjs_new: Signer
    regency: dict[str, Signer]  # by regency code

    @property
    def keyring_file(self) -> Path:
        return self.folder / "keyring.json"

    def trusted(self, *, with_old_bpjs_key: bool = True) -> list[TrustedKey]:
        keys = [signer.trusted(name) for name, signer in self.services.items()]
        if with_old_bpjs_key:
            keys.append(self.bpjs_old.trusted("bpjs"))
        keys.append(self.bpjs_new.trusted("bpjs"))
        keys += [signer.trusted(f"regency-{code}") for code, signer in self.regency.items()]
        return keys

    def write_keyring(self, *, with_old_bpjs_key: bool = True) -> None:
        self.keyring_file.write_text(keyring_json(self.trusted(with_old_bpjs_key=with_old_bpjs_key)))

    def env_of(self, service: str) -> dict[str, str]:
        """The signing settings of `service` (its own key) and the keyring every service reads."""
        signer = self.services[service]
        path = self.folder / f"{signer.key_id}.pem"
        return {
            "LINDUNG_EVENT_SIGNING_KEY_FILE": str(path),
            "LINDUNG_EVENT_SIGNING_KEY_ID": signer.key_id,
            "LINDUNG_EVENT_KEYRING_FILE": str(self.keyring_file),
        }


def make_keys(folder: Path, services: Iterable[str]) -> Keys:
    keys = Keys(
        folder,
        {name: Signer.generate(f"{name}.{RUN}") for name in services},
        Signer.generate(f"bpjs.{RUN}.old"),
        Signer.generate(f"bpjs.{RUN}.new"),
        {code: Signer.generate(f"regency-{code}.{RUN}") for code in (SAMOSIR, MEDAN)},
    )
    for signer in keys.services.values():
        signer.write_private(folder / f"{signer.key_id}.pem")
    keys.write_keyring()
    return keys


@dataclass
class Stack:
    """The running services; `restart` starts one again (with the settings of now)."""

    services: InProcess
    keys: Keys

    @property
    def bootstrap(self) -> str:
        return self.services.bootstrap

    async def restart(self, service: str) -> None:
        await self.services.stop(service)
        await self.services.start(service, self.keys.env_of(service))

    async def call(self, service: str, method: str, path: str, **kw: Any) -> httpx.Response:
        return await self.services.call(service, method, path, **kw)

    async def send(
        self, topic: str, envelope: Envelope, key: str, signer: Signer | None, *, value: bytes | None = None
    ) -> None:
        """Publish `envelope` as a foreign system would: signed by `signer` (None: unsigned), over
        `value` when given (the bytes signed are then not the bytes sent)."""
        headers = signer.headers(value if value is not None else envelope.to_bytes()) if signer else []
        await produce(self.bootstrap, topic, [(key, envelope)], headers=headers)


async def expect(reply: httpx.Response, *statuses: int) -> Any:
    assert reply.status_code in statuses, f"{reply.request.method} {reply.request.url}: {reply.text}"
    return reply.json()


@pytest.fixture(scope="package")
async def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    keys = make_keys(tmp_path_factory.mktemp("keys"), SERVICES_WITH_SCHEMAS)
    async with in_process_stack(infra, "lindung_signed", env_of=keys.env_of) as services:
        found = Stack(services, keys)
        await seed(found)
        yield found


async def seed(stack: Stack) -> None:
    """The programme (allocation → registry, signed on the way) and an empty P3KE extract."""
    yaml = {"content-type": "application/yaml"}
    await expect(
        await stack.call("allocation", "POST", "/programmes", content=PROGRAMME_YAML, headers=yaml), 201
    )

    async def registry_knows() -> bool:
        reply = await stack.call("registry", "GET", "/programmes")
        return any(p["programme_code"] == PROGRAMME for p in reply.json())

    await eventually(registry_knows, timeout_s=30)
    extract = "nik,desil\n" + "".join(f"{p.nik},1\n" for p in PEOPLE.values())
    await expect(await stack.call("registry", "POST", "/reference/p3ke", content=extract.encode()), 201)
