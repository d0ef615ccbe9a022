"""One whole stack for the seed tests, started once for the package: registry, allocation,
enrollment, the BPJS simulator, claims and the dashboard in-process through their real lifespans,
on one fresh database and this package's own broker, sharing a business clock the tests move
(LINDUNG_BUSINESS_CLOCK_FILE). Each seed test uses programme codes of its own.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from libs.settings import get_settings
from lindung_cli.benchmarks.programme_year import Stack
from tests.conftest import package_infra  # noqa: F401  (`infra`: a broker of this package's own)
from tests.infra import Infra
from tests.support.stack import in_process_stack

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
    clock_file = Path(tmp_path_factory.mktemp("seeds")) / "business-now"
    clock_file.write_text("2024-01-01T09:00:00+07:00", encoding="utf-8")
    # in_process_stack puts the environment back: later packages must not inherit the clock.
    env = {"LINDUNG_BUSINESS_CLOCK_FILE": str(clock_file), **SEED_ENV}
    async with (
        in_process_stack(infra, "lindung_seeds", partitions=None, env=env) as started,
        contextlib.AsyncExitStack() as clients,
    ):
        http = {
            service: await clients.enter_async_context(started.client(service, timeout=120))
            for service in started.apps
        }
        yield Stack(http, infra.bootstrap, started.engine, clock_file, get_settings().nik_pepper)
