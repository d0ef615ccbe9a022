"""`lindung bench programme-year`: one full year of a programme file (scaled when asked) on a
stack of its own, the money reconciled to the rupiah and the time of each stage; JSON and a chart
written to the results folder."""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
import time
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

import httpx

from libs.service_names import SERVICES
from lindung_cli.benchmarks.programme_file import cost_per_worker, read_programme, scale_programme, seats_of
from lindung_cli.benchmarks.running_stack import WIB, Stack
from lindung_cli.benchmarks.standard_year import Plan, run_year
from lindung_cli.benchmarks.year import Year
from lindung_cli.benchmarks.year_people import People, Worker, p3ke_rows

SIGNERS = {"SK_GUBERNUR": "Gubernur Sumatera Utara", "SK_BUPATI": "Bupati", "PERKADA": "Kepala Daerah"}


def bench_cast(spec: dict[str, Any], seed: int) -> tuple[list[Worker], list[Worker], list[Worker]]:
    """(seated, waiting, rejected) for a full year of `spec`: a worker for every seat the money
    pays for (desil 1), the rest of the seats' workers and one more in the first cell waiting
    (desil 2, nominated last), and one worker at desil 3 the registry refuses."""
    people = People(seed, int(spec["year"]))
    every = [people.worker(r, s) for (r, s), n in seats_of(spec).items() for _ in range(n)]
    affordable = min(len(every), int(spec["budget_cap"]) // cost_per_worker(spec))
    first = every[0]
    waiting = [people.worker(w.regency, w.sector, desil=2) for w in every[affordable:]]
    waiting.append(people.worker(first.regency, first.sector, desil=2))
    return every[:affordable], waiting, [people.worker(first.regency, first.sector, desil=3)]


async def bench_year(stack: Stack, spec: dict[str, Any], *, seed: int = 2025) -> dict[str, Any]:
    """One full year of `spec` on `stack`; the money reconciled and the time of each stage."""
    seated, waiting, rejected = bench_cast(spec, seed)
    regencies = sorted({r for r, _ in seats_of(spec)})
    plan = Plan(
        signer=SIGNERS.get(str(spec.get("decree_kind")), "Kepala Daerah"),
        stop_from=8,
        stop_for=regencies[1] if len(regencies) > 1 else None,
    )

    def pace(year: Year) -> None:
        year.http_concurrency, year.poll_s, year.enroll_timeout_s = 8, 2.0, 3600.0

    started = time.monotonic()
    outcome = await run_year(
        stack,
        spec,
        seated,
        plan,
        waiting=waiting,
        others=rejected,
        extract=p3ke_rows([*seated, *waiting, *rejected]),
        tune=pace,
    )
    wall = time.monotonic() - started
    year, books = outcome.year, outcome.year.books
    bills = await year.month_bills()
    view = await year.view()
    billed = sum(b["totals"]["total"] for b in bills.values())
    paid = sum(b["totals"]["paid_total"] for b in bills.values())
    cap = int(spec["budget_cap"])
    return {
        "kind": "programme-year",
        "programme": year.code,
        "name": spec["name"],
        "seats": sum(seats_of(spec).values()),
        "workers_nominated": len(seated) + len(waiting) + len(rejected),
        "workers_enrolled": len(books.members),
        "premium_per_month": books.premium,
        "money": {
            "budget_cap": cap,
            "quota_cost": view["budget"]["quota_cost"],
            "quota_headroom": view["budget"]["quota_headroom"],
            "shortfall": view["budget"]["shortfall"],
            "billed": billed,
            "paid": paid,
            "covered_worker_months": books.worker_months(),
            "expected_billed": books.total(),
            "reconciled": billed == books.total() == paid,
            "within_cap": billed <= cap,
            "headroom_after_year": cap - billed,
        },
        "months": {
            month: {"workers": b["totals"]["workers"], "total": b["totals"]["total"]}
            for month, b in bills.items()
        },
        "events": {
            "died": 1 if outcome.dead else 0,
            "withdrawn": 1 if outcome.withdrawn else 0,
            "promoted": 1 if outcome.promoted else 0,
            "memberships_ended": len(outcome.stopped),
            "late_month": year.months[plan.late_month] if plan.late_month is not None else None,
        },
        "timings_s": {k: round(v, 2) for k, v in year.timings.items()},
        "wall_s": round(wall, 1),
    }


def year_chart(result: dict[str, Any], out: Path) -> Path:
    """Stage timings, and the money: cap, quota cost, billed against the covered worker-months."""
    import matplotlib

    matplotlib.use("Agg")  # no display on servers
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.5))
    stages = list(result["timings_s"])
    left.barh(stages, [result["timings_s"][s] for s in stages], color="tab:blue")
    left.invert_yaxis()
    left.set_xlabel("seconds")
    left.set_title(
        f"{result['programme']}: {result['workers_enrolled']:,} enrolled, {result['wall_s']:.0f} s"
    )
    money = result["money"]
    labels = ["budget cap", "quota cost", "billed", "worker-months × premium"]
    values = [money["budget_cap"], money["quota_cost"], money["billed"], money["expected_billed"]]
    bars = right.bar(
        labels, [v / 1e6 for v in values], color=["grey", "tab:orange", "tab:green", "tab:olive"]
    )
    for bar, value in zip(bars, values, strict=True):
        where = (bar.get_x() + bar.get_width() / 2, bar.get_height())
        right.annotate(f"Rp{value:,}".replace(",", "."), where, ha="center", va="bottom", fontsize=7)
    right.set_ylabel("Rp million")
    right.set_title(
        f"{money['covered_worker_months']:,} covered worker-months; "
        f"reconciled: {'yes' if money['reconciled'] else 'NO'}",
        fontsize=10,
    )
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def run_bench(programme: Path, factor: Fraction, out_dir: Path, *, log: Path | None = None) -> dict[str, Any]:
    """A stack of its own (lindung_cli.benchmarks.stack), its business clock in a scratch file,
    one year of the programme file at `factor` of its size; JSON and PNG written to `out_dir`."""
    from libs.db import make_engine
    from libs.settings import Settings
    from lindung_cli.benchmarks.stack import own_stack

    spec = read_programme(programme)
    if factor != 1:
        spec = scale_programme(spec, f"{spec['code']}-{factor.numerator}-{factor.denominator}", factor)
    scratch = Path(tempfile.mkdtemp(prefix="lindung-year-"))
    clock = scratch / "business-now"
    clock.write_text(datetime(int(spec["year"]) - 1, 11, 1, 9, tzinfo=WIB).isoformat(), encoding="utf-8")
    saved = dict(os.environ)
    os.environ.update(
        {"LINDUNG_BUSINESS_CLOCK_FILE": str(clock), "LINDUNG_ENROLLMENT_LAPSE_CHECK_INTERVAL_S": "0"}
    )
    try:
        with own_stack({}, log=log or scratch / "services.log") as running:
            target = running.target()

            async def go() -> dict[str, Any]:
                engine = make_engine(running.database_url)
                clients = {
                    name: httpx.AsyncClient(base_url=target.urls[name], timeout=600.0) for name in SERVICES
                }
                try:
                    stack = Stack(clients, running.bootstrap, engine, clock, Settings().nik_pepper, 3600.0)
                    stack.signers = target.signers()
                    return await bench_year(stack, spec)
                finally:
                    for client in clients.values():
                        await client.aclose()
                    await engine.dispose()

            result = asyncio.run(go())
    finally:
        os.environ.clear()
        os.environ.update(saved)
    stamp = datetime.now(WIB).astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    out_dir.mkdir(parents=True, exist_ok=True)
    report = out_dir / f"programme-year-{stamp}.json"
    report.write_text(json.dumps({**result, "stamp": stamp, "file": str(programme)}, indent=1) + "\n")
    result["json"], result["png"] = (
        str(report),
        str(year_chart(result, out_dir / f"programme-year-{stamp}.png")),
    )
    return result
