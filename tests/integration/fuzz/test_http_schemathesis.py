"""Schemathesis against each service's OpenAPI: no 5xx, no crash, documented success bodies.

Each service starts in-process through its real lifespan (consumer, relay, background loops) on a
fresh database and a broker of its own, so what the fuzzer creates never reaches another test.
Schemathesis starts the lifespan itself (`from_asgi`) and calls the app over its ASGI transport:
no sockets. Every operation gets hypothesis-generated cases that fit the schema (positive) and,
where it has query, header or body parameters, cases that do not (negative); operations under
`/programmes/{code}` also get positive cases on a programme that exists. Generation is
derandomized, so a run is repeatable.

Checks on every response: no 5xx and no exception out of the app (`not_a_server_error`); on 2xx
the body matches the documented response schema. Status codes the OpenAPI does not list (404,
409, 400) are counted and printed, not failed: the APIs document only FastAPI's defaults (nor
are the services' own 422 bodies, `{"detail": {"code", "message"}}`, or the PDF/XLSX content
types of reports, checked against those defaults).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.python import asgi as schemathesis_asgi
from schemathesis.specs.openapi.checks import response_schema_conformance

from libs.events import topics
from libs.events.contracts.allocation import ProgrammeDefined, QuotaCell
from libs.events.contracts.common import Funder
from libs.events.envelope import Envelope
from libs.messaging.kafka import ensure_topics
from libs.runtime.service import create_app
from libs.settings import get_settings
from tests.infra import Servers, module_infra
from tests.integration.fuzz.conftest import SERVICES, Publisher, migrated_database
from tests.running import use_env
from tests.support.envelopes import envelope_of

pytestmark = [
    pytest.mark.integration,
    # schemathesis' strategies use `random` inside hypothesis; harmless with derandomize.
    pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisDeprecationWarning"),
]

# Cases per operation and generation mode: 66 operations, about 10,500 cases in all.
EXAMPLES = 155
# Positive cases on the existing programme (reports render a whole PDF or XLSX each: fewer).
KNOWN_EXAMPLES = 40
MINIMUM_TOTAL = 10_000
KNOWN_PROGRAMME = "DEMO-SUMUT-2026"  # defined before fuzzing (allocation: its YAML; others: the event)
DEMO_YAML = Path(__file__).resolve().parents[3] / "docs" / "examples" / "demo-sumut-2026.yaml"
MAX_REPORTED = 25


@dataclass
class HttpOutcome:
    """What the fuzzer did to one service."""

    service: str
    cases: int = 0
    seconds: float = 0.0
    per_operation: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    # Status codes the OpenAPI does not list for the operation ("GET /x 404": count).
    undocumented: Counter[str] = field(default_factory=Counter)
    # Crashes, 5xx and failed checks: one line each (with a curl command), first ones only.
    failures: list[str] = field(default_factory=list)
    failure_count: int = 0

    def fail(self, line: str) -> None:
        self.failure_count += 1
        if len(self.failures) < MAX_REPORTED:
            self.failures.append(line)

    def summary(self) -> str:
        statuses = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        rate = self.cases / self.seconds if self.seconds else 0.0
        return (
            f"[http fuzz] {self.service}: {self.cases} cases on {len(self.per_operation)} operations "
            f"in {self.seconds:.1f}s ({rate:.0f}/s); statuses {{{statuses}}}; "
            f"undocumented {dict(self.undocumented.most_common(6))}; failures {self.failure_count}"
        )


@pytest.fixture(scope="module")
def http_outcomes() -> dict[str, HttpOutcome]:
    return {}


def _hypothesis_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
    )


def _strategies(operation: Any) -> list[tuple[st.SearchStrategy[Any], int]]:
    """The case strategies of one operation, each with its number of examples."""
    variants: list[tuple[st.SearchStrategy[Any], int]] = [
        (operation.as_strategy(generation_mode=GenerationMode.POSITIVE), EXAMPLES)
    ]
    if len(operation.query) or len(operation.headers) or len(operation.body):
        variants.append((operation.as_strategy(generation_mode=GenerationMode.NEGATIVE), EXAMPLES))
    if "code" in {p.name for p in operation.path_parameters}:
        strategy = operation.as_strategy(
            generation_mode=GenerationMode.POSITIVE, path_parameters={"code": KNOWN_PROGRAMME}
        )
        variants.append((strategy, KNOWN_EXAMPLES))
    return variants


def _check(outcome: HttpOutcome, case: Any) -> None:
    label = case.operation.label
    outcome.cases += 1
    outcome.per_operation[label] += 1
    try:
        response = case.call()
    except Exception as exc:  # the app raised: Starlette answered 500 and re-raised it
        outcome.fail(f"{label}: crash {type(exc).__name__}: {str(exc)[:300]}\n    {case.as_curl_command()}")
        return
    status = response.status_code
    outcome.statuses[status] += 1
    documented = {str(code) for code in case.operation.definition.raw.get("responses", {})}
    if str(status) not in documented:
        outcome.undocumented[f"{label} {status}"] += 1
    checks: list[CheckFunction] = [not_a_server_error]
    if 200 <= status < 300:
        checks.append(response_schema_conformance)
    try:
        case.validate_response(response, checks=checks)
    except FailureGroup as group:
        titles = "; ".join(sorted({f.title for f in group.exceptions}))
        outcome.fail(f"{label}: {status} {titles}: {response.content[:200]!r}\n    {case.as_curl_command()}")


def fuzz(service: str, app: Any) -> HttpOutcome:
    """Run every operation of `app`'s OpenAPI (blocking; the lifespan must be started)."""
    outcome = HttpOutcome(service)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    started = time.monotonic()
    for result in schema.get_all_operations():
        operation = result.ok()
        for strategy, examples in _strategies(operation):

            @given(case=strategy)
            @_hypothesis_settings(examples)
            def run(case: Any) -> None:
                _check(outcome, case)

            # Unsatisfiable: e.g. no invalid value exists for the operation's only parameter.
            with contextlib.suppress(Unsatisfiable):
                run()
    outcome.seconds = time.monotonic() - started
    return outcome


def _seed(service: str, client: Any) -> None:
    """Make `KNOWN_PROGRAMME` exist before fuzzing: allocation defines it from its YAML; services
    that consume the allocation topic have it there (published by the test) and apply it first."""
    if service == "allocation":
        answer = client.post(
            "/programmes", data=DEMO_YAML.read_bytes(), headers={"content-type": "application/yaml"}
        )
        assert answer.status_code == 201, answer.text
    elif topics.ALLOCATION in topics.SUBSCRIPTIONS[service]:
        deadline = time.monotonic() + 30
        while client.get("/stats").json().get("applied", 0) < 1:
            assert time.monotonic() < deadline, f"{service} did not apply ProgrammeDefined"
            time.sleep(0.1)


def run_service(service: str) -> HttpOutcome:
    """Start `service` (schemathesis' lifespan), seed it, fuzz it, stop it (blocking)."""
    app = create_app(SERVICES[service]())
    try:
        with schemathesis_asgi.get_client(app) as client:  # starts the lifespan
            _seed(service, client)
        return fuzz(service, app)
    finally:
        schemathesis_asgi.shutdown_lifespans()


def programme_defined() -> Envelope:
    """The known programme as allocation announces it (for services that learn it from Kafka)."""
    event = ProgrammeDefined(
        programme_code=KNOWN_PROGRAMME,
        name="Fuzz programme",
        year=2026,
        funder=Funder.APBD_PROVINSI,
        jurisdiction="12",
        premium_jkk=10_000,
        premium_jkm=6_800,
        months=12,
        coverage_start=date(2026, 1, 1),
        coverage_end=date(2026, 12, 31),
        budget_cap=4_210_000_000,
        allowed_deciles=[1, 2],
        age_min=15,
        age_max=65,
        occupations=["petani", "nelayan"],
        requires_decree=True,
        quotas=[QuotaCell(regency_code="12.17", sector="non_sawit", seats=100)],
    )
    return envelope_of(event, "allocation", f"programme-{KNOWN_PROGRAMME}")


@pytest.mark.parametrize("service", list(SERVICES))
async def test_schemathesis_finds_no_server_error(
    service: str, servers: Servers, http_outcomes: dict[str, HttpOutcome]
) -> None:
    with module_infra(servers) as infra:
        url = await asyncio.to_thread(migrated_database, infra, [service])
        use_env(url, infra.bootstrap)
        await ensure_topics(infra.bootstrap, topics.all_topic_names(), get_settings().topic_partitions)
        if topics.ALLOCATION in topics.SUBSCRIPTIONS[service]:
            envelope = programme_defined()
            await Publisher(infra.bootstrap).publish(
                topics.ALLOCATION, [("valid", KNOWN_PROGRAMME.encode(), envelope.to_bytes())]
            )
        outcome = await asyncio.to_thread(run_service, service)
    http_outcomes[service] = outcome
    print(outcome.summary())
    assert outcome.failure_count == 0, f"{outcome.summary()}\n" + "\n".join(outcome.failures)


def test_at_least_ten_thousand_cases_in_total(http_outcomes: dict[str, HttpOutcome]) -> None:
    per_service = {name: o.cases for name, o in http_outcomes.items()}
    total = sum(per_service.values())
    print(f"[http fuzz] total {total} cases: {per_service}")
    assert set(per_service) == set(SERVICES), f"services not fuzzed: {set(SERVICES) - set(per_service)}"
    assert total >= MINIMUM_TOTAL, f"only {total} cases: {per_service}"
