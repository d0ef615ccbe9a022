"""The pipeline benchmark runs end to end on a stack of its own (its numbers are not judged here).

A few hundred workers go from the inbound topic to EnrolledAtBPJS through every service; the
report must count each of them at every stage, measure the broker baseline and every process's
memory, and the command must write its JSON and PNG.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.bench.conftest import run_pipeline_bench

pytestmark = pytest.mark.integration

WORKERS = 240


def test_every_worker_is_counted_at_every_stage_and_the_baseline_is_measured(bench_env: Path) -> None:
    out = bench_env / "results"
    run = run_pipeline_bench(bench_env, WORKERS)
    assert list(out.glob("pipeline-*.png"))
    assert run["complete"] and run["enrolled"] == WORKERS
    assert set(run["failures"].values()) == {0}
    assert [s["stage"] for s in run["stages"]] == [
        "validated",
        "assigned",
        "requested",
        "answered",
        "enrolled",
    ]
    assert all(s["count"] == WORKERS for s in run["stages"])
    # Per worker at least: nominated + validated + reply (registry), assigned (allocation),
    # requested + enrolled (enrollment), accepted (simulator), and the inbound message.
    events = run["events"]
    assert events["inbound"] == WORKERS and events["registry"] >= 3 * WORKERS
    assert events["allocation"] >= WORKERS and events["enrollment"] >= 2 * WORKERS
    assert events["bpjs_simulator"] >= WORKERS and events["total"] == sum(
        v for k, v in events.items() if k != "total"
    )
    assert run["instances"]["allocation"] == 1 and run["instances"]["enrollment"] == 1
    assert run["wall_s"] > 0 and run["pipeline_per_s"] > 0
    assert set(run["latency_s"]["submitted_to_enrolled"]) >= {"p50", "p99"}
    assert run["baseline"]["messages"] == WORKERS and run["baseline"]["per_s"] > 0
    assert run["baseline"]["message_bytes"] == run["submit"]["message_bytes"] > 300
    assert run["pipeline_to_baseline"] > 0
    assert {"registry", "allocation", "enrollment", "bpjs_simulator", "tansu", "postgres"} <= set(
        run["peak_mib"]
    )
