"""Labuhanbatu 2025: 7,500 workers on the regency budget at 100 per village in 75 villages
(docs/examples/labuhanbatu-2025-apbd.yaml) run as a year at 1/300 (25 workers, 1 per village in 25
villages); then the planned 10,000 more on APBD (labuhanbatu-2025-apbd-tambahan.yaml, 1/500) and
3,800 on DBH Sawit SILPA (labuhanbatu-2025-dbh-sawit.yaml, 1/200), overlapping from April: one payer
per worker, whichever funder nominated first, in both orders; a worker waiting in vain under one
funder is free for the other; a worker the first programme holds is refused with its name."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest

from lindung_cli.benchmarks.programme_year import (
    Member,
    Outcome,
    People,
    Plan,
    Stack,
    Worker,
    Year,
    p3ke_rows,
    read_programme,
    run_year,
    scale_programme,
    seats_of,
)
from tests.integration.seeds.checks import (
    assert_audit,
    assert_dashboard,
    assert_ended,
    assert_money,
    claim_codes,
)
from tests.integration.seeds.conftest import RUN

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[3] / "docs" / "examples"
LABUHANBATU = "12.10"


def _fill(people: People, spec: dict, taken: dict[str, int] | None = None) -> list[Worker]:
    """Workers for every seat of `spec` not already counted in `taken` (per sector)."""
    out = []
    for (regency, sector), n in seats_of(spec).items():
        out += [people.worker(regency, sector) for _ in range(n - (taken or {}).get(sector, 0))]
    return out


async def test_labuhanbatu_2025_village_cap_and_one_payer_per_worker(stack: Stack) -> None:
    people = People(seed=1210, year=2025)
    # --- APBD: 1 per village (scaled from 100), each seated worker in a village of their own.
    apbd = scale_programme(
        read_programme(EXAMPLES / "labuhanbatu-2025-apbd.yaml"), f"LBH-APBD-{RUN}", Fraction(1, 300)
    )
    assert apbd["village_cap"] == 1 and sum(seats_of(apbd).values()) == 25
    villages = people.villages(LABUHANBATU)
    assert len(villages) == 98
    sectors = [s for (_, s), n in seats_of(apbd).items() for _ in range(n)]
    sawit_seats = seats_of(apbd)[(LABUHANBATU, "sawit")]
    # One sawit seat is left free; a second worker of an already seated village asks for it.
    seated = [
        people.worker(LABUHANBATU, s, desa=villages[i]) for i, s in enumerate(sectors) if i != sawit_seats - 1
    ]
    capped = people.worker(LABUHANBATU, "sawit", desil=2, desa=villages[3])  # seated[3] stays all year
    outcome = await run_year(
        stack,
        apbd,
        seated,
        Plan(signer="Bupati Labuhanbatu"),
        others=[capped],
        extract=p3ke_rows([*seated, capped]),
    )
    waitlist = (await stack.http["allocation"].get(f"/programmes/{apbd['code']}/waitlist")).json()
    assert [(w["worker_id"], w["reason"]) for w in waitlist["items"]] == [
        (stack.worker_id(capped), "village_full")
    ]
    assert await claim_codes(outcome.year, f"{apbd['code']}-LAPSE") == ["IN_LAPSE"]
    money = await assert_money(outcome)
    await assert_ended(outcome)
    await assert_dashboard(outcome, money)

    # --- The APBD tambahan and DBH Sawit SILPA programmes, April to December, overlapping.
    tambahan = scale_programme(
        read_programme(EXAMPLES / "labuhanbatu-2025-apbd-tambahan.yaml"),
        f"LBH-TAMBAH-{RUN}",
        Fraction(1, 500),
    )
    dbh = scale_programme(
        read_programme(EXAMPLES / "labuhanbatu-2025-dbh-sawit.yaml"), f"LBH-DBH-{RUN}", Fraction(1, 200)
    )
    assert (sum(seats_of(tambahan).values()), sum(seats_of(dbh).values())) == (20, 19)
    both = {code: Year(stack, spec) for code, spec in (("tambahan", tambahan), ("dbh", dbh))}
    stack.today(date(2025, 3, 3))
    for year in both.values():
        await year.define()
    x, y, z = (people.worker(LABUHANBATU, "sawit") for _ in range(3))
    dbh_fill = _fill(people, dbh, {"sawit": 1})  # every DBH seat but X's
    tambahan_fill = _fill(people, tambahan, {"sawit": 2})  # every tambahan seat but Y's and Z's
    held_by_apbd = outcome.members[stack.worker_id(seated[5])].worker
    await stack.import_reference(p3ke_rows([x, y, z, *dbh_fill, *tambahan_fill]))

    async def nominate(year: Year, *workers: Worker) -> dict:
        answers = await year.nominate(list(workers), doors=("http",))
        await stack.settle()
        return answers

    await nominate(both["dbh"], x, *dbh_fill)  # X first under DBH Sawit; DBH is full
    await nominate(both["tambahan"], y)  # Y first under the APBD tambahan
    later = await nominate(both["tambahan"], x)  # X again, under the tambahan: DBH holds him
    assert [r["code"] for r in later[x.nik]["reasons"]] == ["DUPLICATE_NOMINATION"]
    assert dbh["code"] in later[x.nik]["reasons"][0]["message"]
    later = await nominate(both["dbh"], y, z)  # Y under DBH: refused; Z: no seat left in DBH
    assert [r["code"] for r in later[y.nik]["reasons"]] == ["DUPLICATE_NOMINATION"]
    assert later[z.nik]["status"] == "validated"
    assert {a["worker_id"]: a["status"] for a in await both["dbh"].assignments()}[
        stack.worker_id(z)
    ] == "waitlisted"
    later = await nominate(both["tambahan"], z, *tambahan_fill)  # Z waits in vain under DBH: free to go
    assert later[z.nik]["status"] == "validated"
    held = await nominate(both["dbh"], held_by_apbd)  # held by the first APBD programme
    # (An active BPJS participant too: the registry says so beside the duplicate.)
    duplicate = next(r for r in held[held_by_apbd.nik]["reasons"] if r["code"] == "DUPLICATE_NOMINATION")
    assert apbd["code"] in duplicate["message"] and apbd["name"] in duplicate["message"]

    payers = {"dbh": [x, *dbh_fill], "tambahan": [y, z, *tambahan_fill]}
    for key, year in both.items():
        await year.decree(date(2025, 3, 20), "Bupati Labuhanbatu")
        members = [Member(w, stack.worker_id(w)) for w in payers[key]]
        await year.wait_enrolled(members, "2025-04")
        year.books.members.update({m.worker_id: m for m in members})
    await stack.settle()
    # Two months of premiums for both, each billed ahead of its month.
    for month, day in (("2025-04", date(2025, 3, 25)), ("2025-05", date(2025, 4, 21))):
        for year in both.values():
            await year.bill(month, day)
    await stack.settle()
    for year in both.values():
        await assert_money(Outcome(year, year.books.members))
    billed = {key: set().union(*year.books.billed.values()) for key, year in both.items()}
    assert not billed["dbh"] & billed["tambahan"]
    assert stack.worker_id(x) in billed["dbh"]
    assert {stack.worker_id(y), stack.worker_id(z)} <= billed["tambahan"]
    await assert_audit()
