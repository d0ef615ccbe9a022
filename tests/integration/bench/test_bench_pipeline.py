"""The pipeline benchmark runs end to end on a stack of its own (its numbers are not judged here).

A few hundred workers go from the inbound topic to EnrolledAtBPJS through every service; the
report must count each of them at every stage, measure the broker baseline, every process's
memory and machine time, each service's statements and rows, the hops of single nominations on
the idle stack afterwards, and the command must write its JSON and PNG. `--profile all` writes a
profile of every service; `--programmes 2` counts the workers of both programmes. One run serves
every test here: a stack of its own per test would double their time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.bench.conftest import bench_environment, run_pipeline_bench

pytestmark = pytest.mark.integration

WORKERS = 240
IDLE = 3
SERVICES = {"registry", "allocation", "enrollment", "claims", "bpjs_simulator", "dashboard"}
Run = tuple[Path, dict[str, Any]]


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """The run's results folder and report: WORKERS workers in two programmes, every service under
    the profiler, IDLE idle samples and the broker baseline afterwards."""
    with bench_environment(tmp_path_factory.mktemp("bench")) as folder:
        options = ("--idle-samples", str(IDLE), "--profile", "all", "--programmes", "2")
        yield folder / "results", run_pipeline_bench(folder, WORKERS, *options)


def test_every_worker_is_counted_at_every_stage_and_the_baseline_is_measured(bench_run: Run) -> None:
    out, run = bench_run
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
    assert run["events_per_s"] > 0 and run["events_to_baseline"] > 0
    # Machine time: every process of the stack, PostgreSQL's tree and the broker included.
    cpu = run["machine_time"]
    assert cpu["ms_per_worker"] > 0 and SERVICES | {"tansu", "postgres"} <= set(cpu["by_process"])
    # SQL: the bench's own PostgreSQL loads pg_stat_statements; each service's role and schema.
    sql = run["sql"]
    assert sql["source"] == "pg_stat_statements" and set(sql["by_service"]) == SERVICES
    registry = sql["by_service"]["registry"]
    assert registry["statements_run"] > 0 and registry["rows_written"] >= 3 * WORKERS
    assert sql["per_worker"]["rows_written"] > 0 and sql["commits"] > 0
    # Idle hops: after the bulk run (whose stage counts above leave them out).
    idle = run["idle_hops"]
    assert idle["samples"] == IDLE and idle["enrolled"] == IDLE
    assert set(idle["hops_s"]) == {
        "posted→validated",
        "validated→assigned",
        "assigned→requested",
        "requested→answered",
        "answered→enrolled",
        "posted→enrolled",
    }
    assert all(cut["p95"] >= cut["p50"] > 0 for cut in idle["hops_s"].values())


def test_profile_all_writes_a_text_report_per_service(bench_run: Run) -> None:
    out, run = bench_run
    # Two programmes too: every worker of both is counted.
    half = WORKERS // 2
    assert run["complete"] and run["enrolled"] == WORKERS
    assert [(p["workers"], p["enrolled"]) for p in run["programmes"]] == [(half, half), (half, half)]
    assert run["programme_code"] == run["programmes"][0]["code"] != run["programmes"][1]["code"]
    assert all(s["count"] == WORKERS for s in run["stages"]) and set(run["failures"].values()) == {0}
    assert run["events"]["inbound"] == WORKERS and run["events"]["registry"] >= 3 * WORKERS
    written = {p.name.split("-")[1]: p for p in out.glob("profile-*.txt")}
    assert set(written) == SERVICES
    assert all(p.stat().st_size > 0 for p in written.values())
