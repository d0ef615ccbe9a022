"""The event-store benchmark runs end to end on a real PostgreSQL (its numbers are not judged here)."""

from __future__ import annotations

import asyncio
import json

import pytest

from lindung_cli.benchmarks.eventstore import as_json, run
from tests.infra import Infra, fresh_database_url

pytestmark = pytest.mark.integration


async def test_bench_measures_both_stores_and_the_rebuild(infra: Infra) -> None:
    url = await asyncio.to_thread(fresh_database_url, infra)
    result = await run(url, count=200, per_tx=2)
    report = json.loads(as_json(result))
    assert report["events"] == 200
    assert report["events_per_transaction"] == 2
    for key in (
        "lindung_append_per_s",
        "peer_append_per_s",
        "lindung_read_per_s",
        "peer_read_per_s",
        "rebuild_per_s",
    ):
        assert report[key] > 0, key
    assert report["append_ratio"] == pytest.approx(
        report["lindung_append_per_s"] / report["peer_append_per_s"]
    )
    assert 300 < report["payload_bytes"] < 2000
