"""Enrollment, the BPJS simulator and claims for the package, in-process, on real PostgreSQL and a
broker of the package's own, dated by one business clock file (LINDUNG_BUSINESS_CLOCK_FILE) that
every service reads and the test moves.

One stack for the package: a second one would meet the first one's requests and answers on the
same topics and consumer groups.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from libs.clock import set_business_now
from libs.events import topics
from libs.messaging.kafka import ensure_topics
from libs.runtime.migrate import upgrade
from libs.runtime.service import Runtime, create_app
from libs.settings import get_settings
from services.bpjs_simulator.domain.insurer import InsurerBehaviour
from services.bpjs_simulator.entrypoints.app import behaviour_from
from services.bpjs_simulator.entrypoints.app import definition as simulator_definition
from services.claims.entrypoints.app import definition as claims_definition
from services.enrollment.entrypoints.app import definition as enrollment_definition
from tests.conftest import package_infra  # noqa: F401  (`infra`: a broker of this package's own)
from tests.infra import Infra, fresh_database_url
from tests.running import running, use_env

WIB = ZoneInfo("Asia/Jakarta")


@dataclass
class Stack:
    enrollment: Runtime
    claims: Runtime
    enrollment_http: httpx.AsyncClient
    simulator_http: httpx.AsyncClient
    claims_http: httpx.AsyncClient
    clock_file: Path
    bootstrap: str
    behaviour: InsurerBehaviour
    pepper: str

    def set_day(self, day: date) -> None:
        """Move every service's business calendar to `day`, 10:00 WIB."""
        set_business_now(self.clock_file, datetime.combine(day, time(10), tzinfo=WIB))


@pytest.fixture(scope="package")
async def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    saved = dict(os.environ)
    clock_file = tmp_path_factory.mktemp("clock") / "business-now"
    set_business_now(clock_file, datetime(2025, 1, 1, 10, tzinfo=WIB))
    url = await asyncio.to_thread(fresh_database_url, infra)
    for service in ("enrollment", "bpjs_simulator", "claims"):
        await asyncio.to_thread(upgrade, service, url)
    use_env(
        url,
        infra.bootstrap,
        LINDUNG_BUSINESS_CLOCK_FILE=str(clock_file),
        # Lapses are recorded when the test asks (POST /coverage/lapses), not by the hourly sweep.
        LINDUNG_ENROLLMENT_LAPSE_CHECK_INTERVAL_S="0",
        LINDUNG_ENROLLMENT_CLOCK_INTERVAL_MS="200",
    )
    settings = get_settings()
    await ensure_topics(
        infra.bootstrap,
        [
            topics.ALLOCATION,
            topics.ENROLLMENT,
            topics.BPJS_REQUESTS,
            topics.BPJS_RESULTS,
            topics.BPJS_CLAIMS,
            topics.CLAIMS,
            *(topics.dead_letter_topic(s) for s in ("enrollment", "bpjs_simulator", "claims")),
        ],
        partitions=settings.topic_partitions,
    )
    simulator, enrollment, claims = simulator_definition(), enrollment_definition(), claims_definition()
    try:
        async with running(simulator) as sim, running(enrollment) as enr, running(claims) as clm:
            apps = {name: create_app(d) for name, d in (("s", simulator), ("e", enrollment), ("c", claims))}
            apps["s"].state.runtime, apps["e"].state.runtime, apps["c"].state.runtime = sim, enr, clm

            def client(name: str, base: str) -> httpx.AsyncClient:
                return httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[name]), base_url=base)

            async with (
                client("e", "http://enrollment") as e,
                client("s", "http://bpjs") as b,
                client("c", "http://claims") as c,
            ):
                yield Stack(
                    enr,
                    clm,
                    e,
                    b,
                    c,
                    clock_file,
                    infra.bootstrap,
                    behaviour_from(settings),
                    settings.nik_pepper,
                )
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
