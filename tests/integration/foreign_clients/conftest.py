"""Systems outside Lindung on Apache Kafka, written the way their integrators write them: the example
code of docs/integrators/ (confluent-kafka, i.e. librdkafka; kcat) run as published, against the
registry, allocation and enrollment in-process on real PostgreSQL. No BPJS simulator: the example
BPJS gateway is the only system answering Lindung's requests.

One stack for the package (the services' consumer groups would otherwise share offsets). The
business calendar is a clock file in March 2026, inside the test programme's year. The services
sign and verify (docs/security.md, "Signed events"): each has its own key, the keyring lists them
with the keys of Samosir's system (`regency-12.17`) and BPJS's gateway (`bpjs`), which the
examples sign with from their PEM files as an integrator would.
"""

from __future__ import annotations

import contextlib
import random
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from libs.clock import set_business_now
from libs.events.signing import Signer, keyring_json
from libs.nik import compose_nik
from libs.regions import desa_of_kecamatan
from services.allocation.entrypoints.app import definition as allocation_definition
from services.enrollment.entrypoints.app import definition as enrollment_definition
from services.registry.entrypoints.app import definition as registry_definition
from tests.brokers import kafka_package_infra  # noqa: F401  (`infra` on Apache Kafka)
from tests.infra import Infra
from tests.running import eventually
from tests.support.stack import in_process_stack

# The published examples, imported as an integrator runs them (they know nothing of Lindung).
INTEGRATORS = Path(__file__).resolve().parents[3] / "docs" / "integrators"
sys.path.insert(0, str(INTEGRATORS))

BIRTH = date(1985, 8, 17)
PANGURURAN = "12.17.08"
ENV = {
    # A retryable refusal is re-sent after 1 s, not a minute; an answer is awaited long enough
    # that no attempt times out while the gateway is not running yet.
    "LINDUNG_ENROLLMENT_RETRY_BASE_S": "1",
    "LINDUNG_ENROLLMENT_RETRY_MAX_S": "1",
    "LINDUNG_ENROLLMENT_ANSWER_TIMEOUT_S": "120",
    "LINDUNG_ENROLLMENT_CLOCK_INTERVAL_MS": "200",
    "LINDUNG_ENROLLMENT_LAPSE_CHECK_INTERVAL_S": "0",
}


def programme_yaml(code: str) -> str:
    """A programme that registers an assigned worker at BPJS without waiting for a decree."""
    return f"""code: {code}
name: "Uji sistem luar {code}"
year: 2026
funder: APBD_PROVINSI
jurisdiction: "12"
coverage_start: 2026-01-01
budget_cap: {16_800 * 12 * 20}
allowed_deciles: [1, 2]
decree_kind: SK_GUBERNUR
requires_decree: false
quotas:
  - {{regency: "12.17", sector: non_sawit, seats: 20}}
"""


SERVICES = ("registry", "allocation", "enrollment")
FOREIGN_SYSTEMS = ("regency-12.17", "bpjs")


def make_keys(folder: Path) -> Path:
    """A key per service and per foreign system (`<producer>.pem`, key id `<producer>.test`) and
    the keyring listing them all; returns the keyring file."""
    signers = {producer: Signer.generate(f"{producer}.test") for producer in (*SERVICES, *FOREIGN_SYSTEMS)}
    for producer, signer in signers.items():
        signer.write_private(folder / f"{producer}.pem")
    keyring = folder / "keyring.json"
    keyring.write_text(keyring_json(s.trusted(p) for p, s in signers.items()))
    return keyring


@dataclass
class Stack:
    registry: httpx.AsyncClient
    allocation: httpx.AsyncClient
    enrollment: httpx.AsyncClient
    bootstrap: str
    programme: str
    keys: Path
    rng: random.Random = field(default_factory=random.Random)
    p3ke: dict[str, int] = field(default_factory=dict)

    def key_arguments(self, producer: str) -> list[str]:
        """The examples' command-line options to sign as `producer`."""
        return ["--key-file", str(self.keys / f"{producer}.pem"), "--key-id", f"{producer}.test"]

    def signer(self, producer: str) -> Any:
        """The examples' signer (lindung_wire.MessageSigner) of `producer`, loaded from its PEM."""
        import lindung_wire

        return lindung_wire.MessageSigner.load(f"{producer}.test", self.keys / f"{producer}.pem")

    @property
    def connection(self) -> dict[str, Any]:
        """librdkafka settings of a foreign system (plaintext on the test broker)."""
        return {"bootstrap.servers": self.bootstrap}

    def worker(self, ref: str, **fields: Any) -> dict[str, Any]:
        """A NominationSubmitted payload for a fresh Samosir worker (NIK issued in Pangururan)."""
        nik = compose_nik("12.17", 8, BIRTH, "P", self.rng.randint(1, 9999))
        return {
            "programme_code": self.programme,
            "nik": nik,
            "full_name": "Rosmawati Sinaga",
            "birth_date": BIRTH.isoformat(),
            "sex": "P",
            "occupation": "petani",
            "regency_code": "12.17",
            "kecamatan": "Pangururan",
            "desa": desa_of_kecamatan(PANGURURAN)[0].name,
            "sector": "non_sawit",
            "source_ref": ref,
            **fields,
        }

    async def in_p3ke(self, *workers: dict[str, Any]) -> None:
        """Add the workers to the P3KE extract at desil 1 (an import replaces the whole extract)."""
        self.p3ke |= {w["nik"]: 1 for w in workers}
        body = "nik,desil\n" + "".join(f"{nik},{d}\n" for nik, d in self.p3ke.items())
        answer = await self.registry.post(
            "/reference/p3ke", content=body.encode(), params={"source": f"p3ke-{uuid.uuid4().hex[:6]}.csv"}
        )
        assert answer.status_code == 201, answer.text


@pytest.fixture(scope="package")
async def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    clock = tmp_path_factory.mktemp("clock") / "now"
    set_business_now(clock, datetime.fromisoformat("2026-03-02T09:00:00+07:00"))
    keys = tmp_path_factory.mktemp("keys")
    keyring = make_keys(keys)
    env = {"LINDUNG_BUSINESS_CLOCK_FILE": str(clock), "LINDUNG_EVENT_KEYRING_FILE": str(keyring), **ENV}

    def own_key(name: str) -> dict[str, str]:
        """Each service signs with its own key (read at its start)."""
        return {
            "LINDUNG_EVENT_SIGNING_KEY_FILE": str(keys / f"{name}.pem"),
            "LINDUNG_EVENT_SIGNING_KEY_ID": f"{name}.test",
        }

    services = {
        "registry": registry_definition,
        "allocation": allocation_definition,
        "enrollment": enrollment_definition,
    }
    async with (
        in_process_stack(
            infra, "lindung_foreign", services, partitions=None, schemas=services, env=env, env_of=own_key
        ) as started,
        contextlib.AsyncExitStack() as clients,
    ):
        served = {name: await clients.enter_async_context(started.client(name)) for name in services}
        code = f"FOREIGN-{uuid.uuid4().hex[:6].upper()}"
        defined = await served["allocation"].post(
            "/programmes",
            content=programme_yaml(code).encode(),
            headers={"content-type": "application/yaml"},
        )
        assert defined.status_code == 201, defined.text

        async def known() -> bool:
            listed = (await served["registry"].get("/programmes")).json()
            return any(p["programme_code"] == code for p in listed)

        await eventually(known, timeout_s=30)
        yield Stack(
            served["registry"], served["allocation"], served["enrollment"], infra.bootstrap, code, keys
        )
