"""The BPJS simulator alone, in-process, on real PostgreSQL and a Kafka-protocol broker of this
package's own: tests play enrollment on `lindung.bpjs.requests.v1` and read BPJS's answers on
`lindung.bpjs.results.v1`. API keys are on, so the control routes' role checks are real.

One simulator for every test here: a second would share the consumer group's committed offsets.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from libs.auth import hash_key
from libs.runtime.service import Runtime
from services.bpjs_simulator.entrypoints.app import definition
from tests.conftest import package_infra  # noqa: F401  (`infra`: a broker of this package's own)
from tests.infra import Infra
from tests.integration.enrollment.support import MovableClock
from tests.support.stack import partial_stack

KEYS = {role: secrets.token_urlsafe(32) for role in ("bpjs", "auditor")}
API_KEYS = json.dumps(
    [
        {"key_sha256": hash_key(KEYS["bpjs"]), "role": "bpjs", "name": "BPJS Ketenagakerjaan"},
        {"key_sha256": hash_key(KEYS["auditor"]), "role": "auditor", "name": "Auditor Inspektorat"},
    ]
)
# Answers come after 0-150 ms and one in four twice: deregistrations go through the same
# machinery as every other answer.
SETTINGS = {
    "LINDUNG_API_KEYS": API_KEYS,
    "LINDUNG_BPJS_MIN_DELAY_MS": "0",
    "LINDUNG_BPJS_MAX_DELAY_MS": "150",
    "LINDUNG_BPJS_DUPLICATE_PER_MILLION": "250000",
    "LINDUNG_BPJS_SEED": "13",
}


@dataclass
class Simulator:
    runtime: Runtime
    http: httpx.AsyncClient
    clock: MovableClock
    bootstrap: str

    def as_role(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {KEYS[role]}"}


@pytest.fixture(scope="package")
async def simulator(infra: Infra) -> AsyncIterator[Simulator]:
    clock = MovableClock()
    services = {"bpjs_simulator": lambda: definition(now=clock.now)}
    async with (
        partial_stack(infra, services, env=SETTINGS) as started,
        started.client("bpjs_simulator", base_url="http://bpjs") as http,
    ):
        yield Simulator(started.runtimes["bpjs_simulator"], http, clock, infra.bootstrap)
