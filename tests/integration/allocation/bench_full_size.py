"""Full-size measure, run by hand (not part of the suite): Sumut 2024 through Kafka and PostgreSQL.

    .venv/bin/python -m tests.integration.allocation.bench_full_size [--workers 10000]

Defines the Sumut 2024 arithmetic (10,000 seats, Rp2,000,000,000), feeds one validated worker per
seat on `lindung.registry.v1`, waits until every decision is stored and published, then issues
the decree and renders its annex. Prints durations; asserts only the arithmetic (9,920 assigned,
80 waiting for budget), never a duration.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from pathlib import Path

import yaml

from tests.infra import start_infra
from tests.integration.allocation.support import (
    EXAMPLES,
    People,
    consumed,
    drained,
    one_instance,
    produce,
    programme_yaml,
    validated,
)


async def bench(workers: int) -> None:
    data = yaml.safe_load(Path(EXAMPLES / "sumut-2024.yaml").read_text())
    seats = {(q["regency"], q["sector"]): q["seats"] for q in data["quotas"]}
    with start_infra() as infra:
        async with one_instance(infra) as service:
            code = f"BENCH-SUMUT-2024-{uuid.uuid4().hex[:6].upper()}"
            await service.define(
                programme_yaml(code, seats, data["budget_cap"], year=2024, coverage_start="2024-01-01")
            )
            people = People(seed=2024)
            fed = [
                people.worker(r, s, people.rng.choice((1, 2)))
                for (r, s), n in seats.items()
                for _ in range(n)
            ]
            people.rng.shuffle(fed)
            envelopes = [validated(w, code) for w in fed[:workers]]
            started = time.monotonic()
            await produce(infra.bootstrap, "lindung.registry.v1", envelopes)
            await consumed(service.engine, envelopes, timeout_s=3600)
            decided = time.monotonic() - started
            await drained(service.rt)
            published = time.monotonic() - started
            programme = await service.get(f"/programmes/{code}")
            print(
                f"{len(envelopes)} WorkerValidated: all decided in {decided:.1f}s "
                f"({len(envelopes) / decided:.0f}/s), "
                f"all published in {published:.1f}s; assigned {programme['assigned']}, "
                f"waiting {programme['waitlisted']}, shortfall Rp{programme['budget']['shortfall']:,}"
            )
            if workers >= 10_000:
                assert (programme["assigned"], programme["waitlisted"]) == (9_920, 80)
            t0 = time.monotonic()
            decree = await service.http.post(
                f"/programmes/{code}/decrees",
                json={
                    "number": "188.44/1/KPTS/2024",
                    "date": "2024-02-01",
                    "signer": "Gubernur Sumatera Utara",
                },
                timeout=900,
            )
            t1 = time.monotonic()
            pdf = await service.http.get(f"/programmes/{code}/decrees/1/annex.pdf", timeout=900)
            t2 = time.monotonic()
            print(
                f"decree of {decree.json()['worker_count']} workers in {t1 - t0:.1f}s; "
                f"annex PDF ({len(pdf.content):,} bytes) in {t2 - t1:.1f}s"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workers", type=int, default=10_000)
    asyncio.run(bench(parser.parse_args().workers))


if __name__ == "__main__":
    main()
