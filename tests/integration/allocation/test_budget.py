"""Budget arithmetic in whole rupiah, through Kafka and PostgreSQL.

- The example programmes, full size, through the HTTP read model: Sumut 2024 is short
  Rp16,000,000 and pays for 9,920 of its 10,000 seats; Samosir 2026's quota costs Rp365,904,000
  of its Rp395,904,000 cap.
- The same arithmetic at a tenth of the size fed through `lindung.registry.v1`: 1,000 seats over
  the 33 regencies and cities, Rp200,000,000, so Rp1,600,000 short and 992 affordable. A thousand
  validated workers, one per seat, go in; 992 are assigned, never more at any point of the
  stream, and the 8 others wait for budget.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import yaml

from libs.events import decode
from services.allocation.application.quota_stream import to_domain
from services.allocation.domain.quota import QuotaState
from services.allocation.domain.quota_events import Assign
from tests.infra import Infra
from tests.integration.allocation.support import (
    EXAMPLES,
    People,
    Service,
    allocation_records,
    drained,
    one_instance,
    programme_yaml,
    stored,
    validated,
)

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:6].upper()
MINI = f"MINI-SUMUT-2024-{RUN}"
COST = 16_800 * 12


@pytest.fixture(scope="module")
async def service(infra: Infra) -> AsyncIterator[Service]:
    async with one_instance(infra) as s:
        yield s


def tenth_of_sumut_2024() -> dict[tuple[str, str], int]:
    """Sumut 2024's seats scaled to 1,000 (largest remainder), cell by cell."""
    data = yaml.safe_load((EXAMPLES / "sumut-2024.yaml").read_text())
    exact = {(q["regency"], q["sector"]): q["seats"] / 10 for q in data["quotas"]}
    seats = {cell: int(v) for cell, v in exact.items()}
    for cell in sorted(exact, key=lambda c: exact[c] - seats[c], reverse=True)[: 1000 - sum(seats.values())]:
        seats[cell] += 1
    return seats


async def test_sumut_2024_full_size_shows_the_shortfall_and_the_9920_it_can_pay(service: Service) -> None:
    posted = await service.define((EXAMPLES / "sumut-2024.yaml").read_text())
    budget = await service.get("/programmes/SUMUT-2024/budget")

    assert posted["shortfall"] == budget["shortfall"] == 16_000_000
    assert budget["quota_cost"] == 2_016_000_000 and budget["budget_cap"] == 2_000_000_000
    assert budget["affordable_workers"] == budget["fundable_seats"] == 9_920
    assert budget["seats_total"] == 10_000 and budget["cost_per_worker"] == COST
    (flag,) = budget["flags"]
    assert flag["code"] == "BUDGET_SHORTFALL"
    assert "kurang Rp16.000.000" in flag["message"] and "9.920 pekerja" in flag["message"]


async def test_samosir_2026_full_size_shows_its_headroom(service: Service) -> None:
    await service.define((EXAMPLES / "samosir-2026.yaml").read_text())
    programme = await service.get("/programmes/SAMOSIR-2026")
    budget = programme["budget"]

    assert (budget["quota_cost"], budget["budget_cap"]) == (365_904_000, 395_904_000)
    assert budget["quota_headroom"] == 30_000_000 and budget["shortfall"] == 0
    assert budget["flags"] == []
    assert budget["headroom"] == 395_904_000  # nothing committed yet
    assert "Rp365.904.000 dari pagu Rp395.904.000" in budget["summary"]
    listed = {p["programme_code"]: p for p in await service.get("/programmes")}
    assert listed["SAMOSIR-2026"]["budget"]["quota_headroom"] == 30_000_000


async def test_a_tenth_of_sumut_2024_through_kafka_assigns_what_the_budget_pays(
    service: Service, tmp_path: Path
) -> None:
    seats = tenth_of_sumut_2024()
    assert sum(seats.values()) == 1_000
    posted = await service.define(
        programme_yaml(MINI, seats, 200_000_000, year=2024, coverage_start="2024-01-01")
    )
    assert (posted["shortfall"], posted["affordable_workers"]) == (1_600_000, 992)

    people = People(seed=2024)
    workers = [
        people.worker(r, s, decile=people.rng.choice((1, 2))) for (r, s), n in seats.items() for _ in range(n)
    ]
    people.rng.shuffle(workers)
    envelopes = [validated(w, MINI) for w in workers]
    started = time.monotonic()
    await service.feed(envelopes)
    elapsed = time.monotonic() - started
    print(
        f"\n{len(envelopes)} WorkerValidated decided through Kafka in {elapsed:.2f}s "
        f"({len(envelopes) / elapsed:.0f}/s)"
    )

    programme = await service.get(f"/programmes/{MINI}")
    budget = programme["budget"]
    assert programme["assigned"] == budget["committed_workers"] == 992
    assert programme["waitlisted"] == 8
    assert budget["committed_rupiah"] == 992 * COST == 199_987_200
    assert budget["headroom"] == 200_000_000 - 199_987_200 == 12_800
    waiting = await service.get(f"/programmes/{MINI}/waitlist")
    assert waiting["total"] == 8 and {w["reason"] for w in waiting["items"]} == {"no_budget"}
    for cell in await service.get(f"/programmes/{MINI}/quotas"):
        assert cell["assigned"] <= cell["seats"] == seats[(cell["regency_code"], cell["sector"])]

    # Never more than 992 at any point: replay the programme's stream event by event.
    state = QuotaState()
    most = 0
    for env in await stored(service.engine, MINI):
        decision = to_domain(decode(env))
        if decision is not None:
            state.apply(decision)
            most = max(most, len(state.assigned))
            if isinstance(decision, Assign):
                assert state.assigned_per_cell[decision.cell] <= state.seats[decision.cell]
    assert most == 992 and len(state.assigned) == 992

    await drained(service.rt)
    published = await allocation_records(
        service.bootstrap, {MINI}, expected=len(await stored(service.engine, MINI))
    )
    assigned = {e.payload["worker_id"] for e in published if e.event_type == "QuotaAssigned"}
    unseated = {e.payload["worker_id"] for e in published if e.event_type == "QuotaUnseated"}
    assert len(assigned - unseated) >= 992 - len(unseated)
    assert {e.payload["worker_id"] for e in published if e.event_type == "QuotaWaitlisted"} | unseated >= {
        w["worker_id"] for w in waiting["items"]
    }
    assert all(e.producer == "allocation" for e in published)
