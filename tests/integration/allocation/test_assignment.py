"""Assignment through Kafka and PostgreSQL: desil priority before the decree, one payer across
overlapping programmes, quota and budget changes over HTTP, and releases re-flowing the waitlist.

Each worker's WorkerValidated is fed and consumed before the next, so that the order of arrival
(across partitions) is the one the scenario describes.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from libs.events import topics
from libs.events.contracts.common import Funder
from libs.events.contracts.enrollment import CoverageEnded
from libs.events.envelope import Envelope
from tests.infra import Infra
from tests.integration.allocation.support import (
    T0,
    People,
    Service,
    Worker,
    allocation_records,
    drained,
    enrollment_failed,
    one_instance,
    programme_yaml,
    stored,
    validated,
    withdrawn,
)
from tests.support.envelopes import envelope_of

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:6].upper()
DESIL = f"DESIL-{RUN}"
APBD = f"LBH-APBD-{RUN}"
DBH = f"LBH-DBH-{RUN}"
CHANGES = f"CHANGES-{RUN}"
COST = 16_800 * 12


@pytest.fixture(scope="module")
async def service(infra: Infra) -> AsyncIterator[Service]:
    async with one_instance(infra) as s:
        yield s


async def status(service: Service, code: str) -> dict[str, str]:
    rows = await service.get(f"/programmes/{code}/assignments")
    return {r["worker_id"]: r["status"] for r in rows}


async def events_of(service: Service, code: str) -> list[Envelope]:
    return [e for e in await stored(service.engine, code) if e.event_type != "ProgrammeDefined"]


def kinds(events: list[Envelope]) -> list[tuple[str, str]]:
    return [(e.event_type, e.payload.get("worker_id", "")) for e in events]


async def test_before_the_decree_desil_1_takes_the_seat_of_the_latest_desil_2(service: Service) -> None:
    await service.define(programme_yaml(DESIL, {("12.71", "sawit"): 2}, 100 * COST))
    people = People(seed=1)
    w1, w2, w3, w4 = (people.worker("12.71", "sawit", d) for d in (2, 2, 1, 2))
    for w in (w1, w2, w3, w4):
        await service.feed([validated(w, DESIL)])

    assert kinds(await events_of(service, DESIL)) == [
        ("QuotaAssigned", w1.worker_id),
        ("QuotaAssigned", w2.worker_id),
        ("QuotaUnseated", w2.worker_id),
        ("QuotaAssigned", w3.worker_id),
        ("QuotaWaitlisted", w4.worker_id),
    ]
    unseated = (await events_of(service, DESIL))[2].payload
    assert (unseated["by_worker_id"], unseated["by_decile"], unseated["decile"]) == (w3.worker_id, 1, 2)
    waitlist = await service.get(f"/programmes/{DESIL}/waitlist")
    assert [(i["worker_id"], i["position"], i["reason"]) for i in waitlist["items"]] == [
        (w2.worker_id, 1, "no_seat"),  # nominated before w4: first in line again
        (w4.worker_id, 2, "no_seat"),
    ]
    assert waitlist["items"][0]["unseated_by"] == w3.worker_id

    # A death frees a seat: the first in line gets it. BPJS refusing w3 frees another.
    await service.feed([withdrawn(w1, DESIL, "died")])
    await service.feed([enrollment_failed(w3, DESIL)], topic=topics.ENROLLMENT)
    assert kinds((await events_of(service, DESIL))[5:]) == [
        ("QuotaReleased", w1.worker_id),
        ("QuotaAssigned", w2.worker_id),
        ("QuotaReleased", w3.worker_id),
        ("QuotaAssigned", w4.worker_id),
    ]
    tail = (await events_of(service, DESIL))[5:]
    assert [e.payload.get("reason") for e in tail[::2]] == ["died", "enrollment_failed"]
    assert all(e.payload["promoted"] and e.payload["requires_decree"] for e in tail[1::2])
    assert await status(service, DESIL) == {
        w1.worker_id: "released",
        w2.worker_id: "assigned",
        w3.worker_id: "released",
        w4.worker_id: "assigned",
    }


def at(w: Worker, minutes: int) -> Worker:
    """The same worker as proposed by another funder at T0 + minutes."""
    return Worker(
        w.nik,
        w.worker_id,
        w.full_name,
        w.regency,
        w.sector,
        w.decile,
        T0 + timedelta(minutes=minutes),
    )


async def test_one_payer_across_overlapping_programmes(service: Service) -> None:
    regency = {"jurisdiction": "12.10", "decree_kind": "SK_BUPATI", "year": 2025}
    await service.define(
        programme_yaml(
            APBD,
            {("12.10", "sawit"): 3},
            10 * COST,
            funder="APBD_KABUPATEN",
            coverage_start="2025-01-01",
            **regency,
        )
    )
    await service.define(
        programme_yaml(
            DBH,
            {("12.10", "sawit"): 1},
            10 * COST,
            funder="SILPA_DBH_SAWIT",
            coverage_start="2025-04-01",
            months=9,  # April-December: a programme covers one fiscal year (issue 13)
            **regency,
        )
    )
    people = People(seed=2)
    x, y, z = (people.worker("12.10", "sawit", 1) for _ in range(3))

    # X: proposed by the regency budget first, then by DBH Sawit: DBH declines.
    await service.feed([validated(at(x, 1), APBD, Funder.APBD_KABUPATEN)])
    await service.feed([validated(at(x, 2), DBH, Funder.SILPA_DBH_SAWIT)])
    # Y: DBH's proposal arrives first, but APBD proposed earlier (a late delivery): APBD takes Y,
    # DBH releases Y and gives the seat to Z, who was waiting.
    await service.feed([validated(at(y, 10), DBH, Funder.SILPA_DBH_SAWIT)])
    await service.feed([validated(at(z, 11), DBH, Funder.SILPA_DBH_SAWIT)])
    await service.feed([validated(at(y, 5), APBD, Funder.APBD_KABUPATEN)])

    dbh = await events_of(service, DBH)
    assert kinds(dbh) == [
        ("QuotaDeclined", x.worker_id),
        ("QuotaAssigned", y.worker_id),
        ("QuotaWaitlisted", z.worker_id),
        ("QuotaReleased", y.worker_id),
        ("QuotaAssigned", z.worker_id),
    ]
    assert dbh[0].payload["held_by"] == APBD and dbh[3].payload["held_by"] == APBD
    assert dbh[3].payload["reason"] == "held_by_other_programme"
    apbd_events = await events_of(service, APBD)
    assert kinds(apbd_events) == [("QuotaAssigned", x.worker_id), ("QuotaAssigned", y.worker_id)]
    # One transaction decided both: APBD's seat and DBH's release have the same cause.
    assert dbh[3].causation_id == apbd_events[1].causation_id

    # Once DBH's decree fixes Z, an earlier APBD proposal for Z no longer takes Z over.
    decree = await service.http.post(
        f"/programmes/{DBH}/decrees",
        json={"number": "560/1/DBH/2025", "date": "2025-03-20", "signer": "Bupati"},
    )
    assert decree.status_code == 201, decree.text
    await service.feed([validated(at(z, 3), APBD, Funder.APBD_KABUPATEN)])
    assert kinds(await events_of(service, APBD))[-1] == ("QuotaDeclined", z.worker_id)
    assert (await events_of(service, APBD))[-1].payload["held_by"] == DBH

    held = {
        code: {w: s for w, s in (await status(service, code)).items() if s == "assigned"}
        for code in (APBD, DBH)
    }
    assert set(held[APBD]) == {x.worker_id, y.worker_id} and set(held[DBH]) == {z.worker_id}
    await drained(service.rt)
    published = await allocation_records(service.bootstrap, {DBH}, expected=len(dbh) + 3)
    assert {e.event_type for e in published} >= {"QuotaDeclined", "QuotaReleased", "DecreeIssued"}


async def test_quota_and_budget_changes_reflow_the_waitlist(service: Service) -> None:
    await service.define(
        programme_yaml(CHANGES, {("12.71", "sawit"): 1, ("12.04", "non_sawit"): 1}, 3 * COST)
    )
    people = People(seed=3)
    a1, a2 = (people.worker("12.71", "sawit", 1) for _ in range(2))
    b1, b2, b3 = (people.worker("12.04", "non_sawit", 1) for _ in range(3))
    for w in (a1, a2, b1, b2, b3):
        await service.feed([validated(w, CHANGES)])
    http = service.http

    raised = await http.put(f"/programmes/{CHANGES}/quotas/12.71/sawit", json={"seats": 2, "note": "surat 1"})
    assert raised.status_code == 200, raised.text
    assert raised.json()["promoted"] == [a2.worker_id]
    # Three assigned = what the budget pays: more seats promote nobody, more budget does.
    more_seats = (await http.put(f"/programmes/{CHANGES}/quotas/12.04/non_sawit", json={"seats": 3})).json()
    assert more_seats["promoted"] == [] and more_seats["events"] == ["QuotaChanged"]
    budget = (
        await http.put(f"/programmes/{CHANGES}/budget", json={"budget_cap": 4 * COST, "note": "APBD-P"})
    ).json()
    assert budget["promoted"] == [b2.worker_id] and budget["budget"]["committed_workers"] == 4

    moved = await http.post(
        f"/programmes/{CHANGES}/quotas/move",
        json={
            "from_regency": "12.71",
            "from_sector": "sawit",
            "to_regency": "12.04",
            "to_sector": "non_sawit",
            "seats": 1,
        },
    )
    assert moved.status_code == 200 and moved.json()["promoted"] == []  # budget still spent
    cut_budget = (await http.put(f"/programmes/{CHANGES}/budget", json={"budget_cap": 5 * COST})).json()
    assert cut_budget["promoted"] == [b3.worker_id]
    cut = (await http.put(f"/programmes/{CHANGES}/quotas/12.04/non_sawit", json={"seats": 1})).json()
    assert cut["promoted"] == [] and cut["released"] == []

    changes = [e.payload for e in await events_of(service, CHANGES) if e.event_type == "QuotaChanged"]
    assert [
        (c["regency_code"], c["previous_seats"], c["seats"], c["change"], c["over_assigned"]) for c in changes
    ] == [
        ("12.71", 1, 2, "set", 0),
        ("12.04", 1, 3, "set", 0),
        ("12.71", 2, 1, "move_out", 1),
        ("12.04", 3, 4, "move_in", 0),
        ("12.04", 4, 1, "set", 2),
    ]
    assert changes[0]["note"] == "surat 1"
    budgets = [e.payload for e in await events_of(service, CHANGES) if e.event_type == "BudgetChanged"]
    assert [(b["previous_cap"], b["budget_cap"], b["note"]) for b in budgets] == [
        (3 * COST, 4 * COST, "APBD-P"),
        (4 * COST, 5 * COST, ""),
    ]
    cells = {(c["regency_code"], c["sector"]): c for c in await service.get(f"/programmes/{CHANGES}/quotas")}
    assert (cells[("12.71", "sawit")]["seats"], cells[("12.71", "sawit")]["assigned"]) == (1, 2)
    assert cells[("12.04", "non_sawit")]["over_assigned"] == 2  # a cut unassigns nobody
    programme = await service.get(f"/programmes/{CHANGES}")
    assert programme["seats_total"] == 2 and programme["assigned"] == 5
    assert programme["budget"]["budget_cap"] == 5 * COST


async def test_refused_changes_answer_a_code_and_an_indonesian_message(service: Service) -> None:
    http = service.http
    too_many = await http.post(
        f"/programmes/{CHANGES}/quotas/move",
        json={
            "from_regency": "12.71",
            "from_sector": "sawit",
            "to_regency": "12.04",
            "to_sector": "non_sawit",
            "seats": 9,
        },
    )
    assert too_many.status_code == 409
    assert too_many.json()["detail"]["code"] == "MOVE_NOT_ENOUGH_SEATS"
    assert "Kota Medan sektor Sawit hanya 1 kursi" in too_many.json()["detail"]["message"]
    unknown_regency = await http.put(f"/programmes/{CHANGES}/quotas/12.99/sawit", json={"seats": 1})
    assert unknown_regency.json()["detail"]["code"] == "REGENCY_UNKNOWN"
    outside = await http.put(f"/programmes/{APBD}/quotas/12.71/sawit", json={"seats": 1})
    assert outside.status_code == 422 and outside.json()["detail"]["code"] == "REGENCY_OUTSIDE_JURISDICTION"
    bad_sector = await http.put(f"/programmes/{CHANGES}/quotas/12.71/kopi", json={"seats": 1})
    assert bad_sector.json()["detail"]["code"] == "SECTOR_INVALID"
    negative = await http.put(f"/programmes/{CHANGES}/budget", json={"budget_cap": -1})
    assert negative.json()["detail"]["code"] == "BUDGET_INVALID"
    missing = await http.put("/programmes/NO-SUCH/budget", json={"budget_cap": 1})
    assert missing.status_code == 404 and missing.json()["detail"]["code"] == "PROGRAMME_UNKNOWN"
    assert "tidak dikenal" in missing.json()["detail"]["message"]


async def test_a_membership_ended_by_bpjs_frees_the_seat_and_other_ends_change_nothing(
    service: Service,
) -> None:
    # Enrollment's CoverageEnded (a service-alone test: the membership end itself is enrollment's,
    # tests/integration/releases). Only `membership_ended` is news here: every other reason follows
    # a release allocation published itself.
    code = f"ENDED-{RUN}"
    await service.define(programme_yaml(code, {("12.71", "sawit"): 1}, 5 * COST, requires_decree=False))
    people = People(seed=4)
    w1, w2 = (people.worker("12.71", "sawit", 1) for _ in range(2))
    for w in (w1, w2):
        await service.feed([validated(w, code)])

    def ended(w: Worker, reason: str) -> Envelope:
        event = CoverageEnded(
            worker_id=w.worker_id,
            programme_code=code,
            regency_code=w.regency,
            funder=Funder.APBD_PROVINSI,
            ended_on=T0.date(),
            reason=reason,  # type: ignore[arg-type]
        )
        return envelope_of(event, "enrollment", f"registration-{w.worker_id}:{code}")

    await service.feed([ended(w1, "withdrawn")], topic=topics.ENROLLMENT)
    assert await status(service, code) == {w1.worker_id: "assigned", w2.worker_id: "waitlisted"}

    await service.feed([ended(w1, "membership_ended")], topic=topics.ENROLLMENT)
    tail = (await events_of(service, code))[-2:]
    assert kinds(tail) == [("QuotaReleased", w1.worker_id), ("QuotaAssigned", w2.worker_id)]
    assert tail[0].payload["reason"] == "membership_ended"


async def test_a_worker_seated_elsewhere_leaves_a_waitlist_even_where_seats_are_final_at_once(
    service: Service,
) -> None:
    # A waitlist place holds nobody (one payer per worker, issue 13): whatever the programme
    # where the worker waits, seating them elsewhere takes them off that waitlist.
    final, other = f"FINAL-{RUN}", f"OTHER-{RUN}"
    await service.define(programme_yaml(final, {("12.71", "sawit"): 1}, 5 * COST, requires_decree=False))
    await service.define(programme_yaml(other, {("12.71", "sawit"): 1}, 5 * COST))
    people = People(seed=5)
    seated, waiting = (people.worker("12.71", "sawit", 1) for _ in range(2))
    await service.feed([validated(seated, final)])
    await service.feed([validated(waiting, final)])
    await service.feed([validated(at(waiting, 30), other)])

    assert await status(service, other) == {waiting.worker_id: "assigned"}
    assert await status(service, final) == {seated.worker_id: "assigned", waiting.worker_id: "released"}
    released = (await events_of(service, final))[-1]
    assert (released.event_type, released.payload["held_by"]) == ("QuotaReleased", other)
