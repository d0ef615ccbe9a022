"""Enrollment, the BPJS simulator and claims for the package, in-process, on real PostgreSQL and a
broker of the package's own, dated by one business clock file (LINDUNG_BUSINESS_CLOCK_FILE) that
every service reads and the test moves.

One stack for the package: a second one would meet the first one's requests and answers on the
same topics and consumer groups.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from libs.clock import set_business_now
from libs.runtime.service import Runtime
from libs.settings import get_settings
from services.bpjs_simulator.domain.insurer import InsurerBehaviour
from services.bpjs_simulator.entrypoints.app import behaviour_from
from services.bpjs_simulator.entrypoints.app import definition as simulator_definition
from services.claims.entrypoints.app import definition as claims_definition
from services.enrollment.entrypoints.app import definition as enrollment_definition
from tests.conftest import package_infra  # noqa: F401  (`infra`: a broker of this package's own)
from tests.infra import Infra
from tests.support.stack import partial_stack

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
    clock_file = tmp_path_factory.mktemp("clock") / "business-now"
    set_business_now(clock_file, datetime(2025, 1, 1, 10, tzinfo=WIB))
    env = {
        "LINDUNG_BUSINESS_CLOCK_FILE": str(clock_file),
        # Lapses are recorded when the test asks (POST /coverage/lapses), not by the hourly sweep.
        "LINDUNG_ENROLLMENT_LAPSE_CHECK_INTERVAL_S": "0",
        "LINDUNG_ENROLLMENT_CLOCK_INTERVAL_MS": "200",
    }
    services = {
        "bpjs_simulator": simulator_definition,
        "enrollment": enrollment_definition,
        "claims": claims_definition,
    }
    async with (
        partial_stack(infra, services, env=env) as started,
        started.client("enrollment") as e,
        started.client("bpjs_simulator", base_url="http://bpjs") as b,
        started.client("claims") as c,
    ):
        settings = get_settings()
        yield Stack(
            started.runtimes["enrollment"],
            started.runtimes["claims"],
            e,
            b,
            c,
            clock_file,
            infra.bootstrap,
            behaviour_from(settings),
            settings.nik_pepper,
        )
