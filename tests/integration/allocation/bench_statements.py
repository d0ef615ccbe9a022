"""SQL statements and rows written per WorkerValidated, run by hand (not part of the suite).

    .venv/bin/python -m tests.integration.allocation.bench_statements [--workers 500] [--batch 250]

Feeds `--workers` validated workers of one programme (fewer seats than workers, so some wait)
through allocation's reactor on PostgreSQL in consumer-sized batches, each batch in one store
transaction as the inbox consumer runs it (its own inbox statement not counted), and counts every
statement the batches sent (a `before_cursor_execute` listener) and the rows they wrote. Prints
counts, never asserts a duration.
"""

from __future__ import annotations

import argparse
import asyncio
import time
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.db import make_engine
from libs.runtime.migrate import upgrade_all
from tests.infra import create_database, drop_database, start_servers
from tests.integration.allocation.direct import Direct
from tests.integration.allocation.support import People, programme_yaml, validated


class Meter:
    """Statements sent on an engine while `on` (the first 70 characters of each, counted)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.on = False
        self.statements: Counter[str] = Counter()
        event.listen(engine.sync_engine, "before_cursor_execute", self._before)

    def _before(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if self.on:
            self.statements[" ".join(statement.split())[:70]] += 1


def bench(workers: int, batch: int) -> None:
    with start_servers() as servers:
        name = f"lindung_bench_{uuid.uuid4().hex[:8]}"
        url = asyncio.run(create_database(servers.server_url, name))
        try:
            upgrade_all(url, ("allocation",))
            asyncio.run(_measure(url, workers, batch))
        finally:
            asyncio.run(drop_database(servers.server_url, name))


async def _measure(url: str, workers: int, batch: int) -> None:
    direct = Direct.over(url)
    engine = direct.engine
    people = People(seed=17)
    cells = [("12.71", "non_sawit"), ("12.75", "non_sawit"), ("12.01", "sawit")]
    code = f"BENCH-{uuid.uuid4().hex[:6].upper()}"
    await direct.define(programme_yaml(code, {c: workers * 2 // (3 * len(cells)) for c in cells}, 10**13))
    fed = [validated(people.worker(*cells[i % len(cells)], 1 + i % 4), code) for i in range(workers)]
    await engine.dispose()  # a backend's table statistics are flushed when it ends
    before = await _rows_written(url)
    meter = Meter(engine)
    meter.on = True
    started = time.perf_counter()
    for start in range(0, workers, batch):
        await direct.react(fed[start : start + batch])
    elapsed = time.perf_counter() - started
    meter.on = False
    await engine.dispose()
    after = await _rows_written(url)
    total = sum(meter.statements.values())
    rows = {t: after[t] - before.get(t, 0) for t in after if after[t] != before.get(t, 0)}
    written = sum(rows.values())
    print(
        f"{workers} WorkerValidated in batches of {batch}: {total} statements "
        f"({total / workers:.3f} per worker), {written} rows written ({written / workers:.3f} per worker)"
    )
    print(f"fed in {elapsed:.2f} s on this machine (shared: compare runs minutes apart, not alone)")
    print("rows written by table (inserted + updated + deleted):", rows)
    for statement, n in meter.statements.most_common():
        print(f"{n:6d}  {statement}")


async def _rows_written(url: str) -> dict[str, int]:
    """Rows inserted, updated and deleted so far in each table of the database."""
    await asyncio.sleep(1.5)  # the ended backends' statistics reach the shared view
    engine = make_engine(url, pool_size=1)
    async with engine.connect() as conn:
        rows = await conn.execute(
            text("SELECT relname, n_tup_ins + n_tup_upd + n_tup_del AS n FROM pg_stat_user_tables")
        )
        found = {r.relname: int(r.n) for r in rows}
    await engine.dispose()
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--workers", type=int, default=500)
    parser.add_argument("--batch", type=int, default=250)
    args = parser.parse_args()
    bench(args.workers, args.batch)


if __name__ == "__main__":
    main()
