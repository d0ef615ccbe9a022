"""A running stack as a programme year drives it: an HTTP client per service, the broker, the
database (to wait until it is quiet), the business clock's file, and the reference extracts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.clock import set_business_now
from libs.events.signing import Signer
from libs.identity import worker_id_for
from libs.runtime.migrate import SERVICES_WITH_SCHEMAS
from lindung_cli.benchmarks.year_people import Worker
from lindung_cli.status import consumer_lag

WIB = timezone(timedelta(hours=7))


@dataclass
class Stack:
    """Where a running stack answers: an HTTP client per service (base URL set), the broker, the
    database (to wait for quiet), and the business clock's file."""

    http: dict[str, httpx.AsyncClient]
    bootstrap: str
    engine: AsyncEngine
    clock_file: Path
    pepper: str
    settle_timeout_s: float = 120.0
    p3ke: dict[str, int] = field(default_factory=dict)  # every row imported so far (a new version replaces)
    dtks: set[str] = field(default_factory=set)
    # Each regency system's event key (the stack's development keys), by producer.
    signers: dict[str, Signer] = field(default_factory=dict)

    def worker_id(self, w: Worker) -> str:
        return worker_id_for(w.nik, self.pepper)

    def today(self, day: date, hour: int = 9) -> None:
        set_business_now(self.clock_file, datetime(day.year, day.month, day.day, hour, tzinfo=WIB))

    async def _counts(self) -> tuple[int, ...]:
        values: list[int] = []
        async with self.engine.connect() as conn:
            for schema in SERVICES_WITH_SCHEMAS:
                row = (
                    await conn.execute(
                        text(
                            f"SELECT (SELECT count(*) FROM {schema}.events),"
                            f" (SELECT count(*) FROM {schema}.inbox),"
                            f" (SELECT count(*) FROM {schema}.outbox WHERE sent_at IS NULL)"
                        )
                    )
                ).one()
                values += [int(v) for v in row]
        return tuple(values)

    async def settle(self, still_s: float = 0.3) -> None:
        """Until nothing waits in an outbox, no consumer group lags, and counts stay still."""
        timeout_s = self.settle_timeout_s
        deadline = time.monotonic() + timeout_s
        while True:
            before = await self._counts()
            if not any(before[2::3]):
                lags = await consumer_lag(self.bootstrap)
                if not any(lags.get(s) for s in SERVICES_WITH_SCHEMAS):
                    await asyncio.sleep(still_s)
                    if await self._counts() == before:
                        return
            if time.monotonic() > deadline:
                raise TimeoutError(f"the stack did not settle within {timeout_s:.0f} s")
            await asyncio.sleep(0.2)

    async def import_reference(self, p3ke: dict[str, int], dtks: Iterable[str] = ()) -> None:
        """Add rows to the P3KE (and DTKS) extracts and import them, as the social office does: each
        import is a new version of the whole extract."""
        self.p3ke.update(p3ke)
        body = "nik,desil\n" + "".join(f"{n},{d}\n" for n, d in self.p3ke.items())
        answer = await self.http["registry"].post(
            "/reference/p3ke", content=body.encode(), params={"source": "p3ke.csv"}
        )
        answer.raise_for_status()
        extra = set(dtks) - self.dtks
        if extra:
            self.dtks |= extra
            body = "nik\n" + "".join(f"{n}\n" for n in sorted(self.dtks))
            answer = await self.http["registry"].post(
                "/reference/dtks", content=body.encode(), params={"source": "dtks.csv"}
            )
            answer.raise_for_status()
