"""One whole stack for the seed tests, started once for the package: registry, allocation,
enrollment, the BPJS simulator, claims and the dashboard in-process through their real lifespans,
on one fresh database and this package's own broker, sharing a business clock the tests move
(LINDUNG_BUSINESS_CLOCK_FILE). Each seed test uses programme codes of its own.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest

from libs.db import make_engine
from libs.events import topics
from libs.messaging.kafka import ensure_topics
from libs.runtime.migrate import SERVICES_WITH_SCHEMAS, upgrade_all
from libs.runtime.service import create_app
from libs.settings import get_settings
from lindung_cli.benchmarks.programme_year import Stack
from tests.conftest import package_infra  # noqa: F401  (`infra`: a broker of this package's own)
from tests.infra import Infra, create_database
from tests.integration.audit.support import drop_database
from tests.running import running, use_env

# Every test's codes carry this run's mark: topics outlive a session's databases.
RUN = uuid.uuid4().hex[:4].upper()

SEED_ENV = {
    # Lapses are recorded when a test asks (POST /coverage/lapses), on the business clock.
    "LINDUNG_ENROLLMENT_LAPSE_CHECK_INTERVAL_S": "0",
    "LINDUNG_ENROLLMENT_CLOCK_INTERVAL_MS": "200",
    "LINDUNG_DASHBOARD_POLL_SECONDS": "2",
}


@pytest.fixture(scope="package")
async def stack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    saved = dict(os.environ)
    name = f"lindung_seeds_{uuid.uuid4().hex[:8]}"
    clock_file = Path(tmp_path_factory.mktemp("seeds")) / "business-now"
    clock_file.write_text("2024-01-01T09:00:00+07:00", encoding="utf-8")
    url = await create_database(infra.server_url, name)
    try:
        await asyncio.to_thread(upgrade_all, url)
        use_env(url, infra.bootstrap, LINDUNG_BUSINESS_CLOCK_FILE=str(clock_file), **SEED_ENV)
        settings = get_settings()
        await ensure_topics(infra.bootstrap, topics.all_topic_names(), partitions=settings.topic_partitions)
        engine = make_engine(url)
        async with AsyncExitStack() as started:
            started.push_async_callback(engine.dispose)
            http: dict[str, httpx.AsyncClient] = {}
            for service in SERVICES_WITH_SCHEMAS:
                definition = importlib.import_module(f"services.{service}.entrypoints.app").definition()
                rt = await started.enter_async_context(running(definition))
                app = create_app(definition)
                app.state.runtime = rt  # the routes over the running service's runtime
                http[service] = await started.enter_async_context(
                    httpx.AsyncClient(
                        transport=httpx.ASGITransport(app=app), base_url=f"http://{service}", timeout=120
                    )
                )
            yield Stack(http, infra.bootstrap, engine, clock_file, settings.nik_pepper)
    finally:
        await drop_database(infra.server_url, name)
        os.environ.clear()
        os.environ.update(saved)  # later packages must not inherit the business clock
        get_settings.cache_clear()
