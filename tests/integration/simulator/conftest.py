"""The BPJS simulator alone, in-process, on real PostgreSQL and a Kafka-protocol broker of this
package's own: tests play enrollment on `lindung.bpjs.requests.v1` and read BPJS's answers on
`lindung.bpjs.results.v1`. API keys are on, so the control routes' role checks are real.

One simulator for every test here: a second would share the consumer group's committed offsets.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from libs.auth import hash_key
from libs.events import topics
from libs.messaging.kafka import ensure_topics
from libs.runtime.migrate import upgrade
from libs.runtime.service import Runtime, create_app
from libs.settings import get_settings
from services.bpjs_simulator.entrypoints.app import definition
from tests.conftest import package_infra  # noqa: F401  (`infra`: a broker of this package's own)
from tests.infra import Infra, fresh_database_url
from tests.integration.enrollment.support import MovableClock
from tests.running import running, use_env

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
    saved = dict(os.environ)
    url = await asyncio.to_thread(fresh_database_url, infra)
    await asyncio.to_thread(upgrade, "bpjs_simulator", url)
    use_env(url, infra.bootstrap, **SETTINGS)
    await ensure_topics(
        infra.bootstrap,
        [
            topics.BPJS_REQUESTS,
            topics.BPJS_RESULTS,
            topics.BPJS_CLAIMS,
            topics.dead_letter_topic("bpjs_simulator"),
        ],
        partitions=get_settings().topic_partitions,
    )
    clock = MovableClock()
    service = definition(now=clock.now)
    try:
        async with running(service) as rt:
            app = create_app(service)
            app.state.runtime = rt
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://bpjs"
            ) as http:
                yield Simulator(rt, http, clock, infra.bootstrap)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
