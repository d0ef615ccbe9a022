"""One enrollment service and one BPJS simulator for the package, in-process, on real PostgreSQL and
a real Kafka-protocol broker; the simulator misbehaves (delays, repeats, late answers, transient
refusals) and the services share a business clock the tests move.

One stack for every test here: a second stack would meet the first one's leftover requests and
answers on the same topics.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from libs.settings import get_settings
from services.bpjs_simulator.entrypoints.app import behaviour_from
from services.bpjs_simulator.entrypoints.app import definition as simulator_definition
from services.enrollment.entrypoints.app import definition as enrollment_definition
from tests.conftest import package_infra  # noqa: F401  (`infra`: a broker of this package's own)
from tests.infra import Infra
from tests.integration.enrollment.support import MovableClock, Stack
from tests.support.stack import partial_stack

CHAOS = {
    # The simulator: answers after 20-1200 ms; 20% twice; 10% held 2.5 s more (overtaken by later
    # answers); 8% refused with a retryable reason first; 5% of NIKs unknown to Dukcapil.
    "LINDUNG_BPJS_MIN_DELAY_MS": "20",
    "LINDUNG_BPJS_MAX_DELAY_MS": "1200",
    "LINDUNG_BPJS_DUPLICATE_PER_MILLION": "200000",
    "LINDUNG_BPJS_LATE_PER_MILLION": "100000",
    "LINDUNG_BPJS_LATE_DELAY_MS": "2500",
    "LINDUNG_BPJS_TRANSIENT_ERROR_PER_MILLION": "80000",
    "LINDUNG_BPJS_NIK_NOT_FOUND_PER_MILLION": "50000",
    "LINDUNG_BPJS_SEED": "11",
    # Enrollment: an answer is overdue after 3 s (so late answers and the outage cause timeouts),
    # retries after 1-2 s, up to 20 attempts (about 90 s of silence before giving up, far more
    # than the outage and the backlog after it); small bill lines to exercise splitting.
    "LINDUNG_ENROLLMENT_ANSWER_TIMEOUT_S": "3",
    "LINDUNG_ENROLLMENT_RETRY_BASE_S": "1",
    "LINDUNG_ENROLLMENT_RETRY_MAX_S": "2",
    "LINDUNG_ENROLLMENT_RETRY_MAX_ATTEMPTS": "20",
    "LINDUNG_ENROLLMENT_CLOCK_INTERVAL_MS": "200",
    "LINDUNG_ENROLLMENT_LAPSE_CHECK_INTERVAL_S": "0",
    "LINDUNG_ENROLLMENT_BILL_MAX_WORKERS": "4",
}


@pytest.fixture(scope="package")
async def stack(infra: Infra) -> AsyncIterator[Stack]:
    clock = MovableClock()
    services = {
        "bpjs_simulator": lambda: simulator_definition(now=clock.now),
        "enrollment": lambda: enrollment_definition(now=clock.now),
    }
    # Later test modules (and `lindung up` in tests/e2e) must not inherit the chaos settings:
    # in_process_stack puts the environment back.
    async with (
        partial_stack(infra, services, env=CHAOS) as started,
        started.client("enrollment") as e,
        started.client("bpjs_simulator", base_url="http://bpjs") as b,
    ):
        settings = get_settings()
        yield Stack(
            started.runtimes["enrollment"],
            started.runtimes["bpjs_simulator"],
            e,
            b,
            clock,
            infra.bootstrap,
            behaviour_from(settings),
            settings.nik_pepper,
        )
