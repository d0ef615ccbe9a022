"""The pipeline bench's result and printed report: events per second through the stack, the
ratios to the plain-client baseline, and the summary's lines; which services run profiled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.console import Console

from lindung_cli.benchmarks.baseline import BaselineResult
from lindung_cli.benchmarks.pipeline_report import print_run, summary_rows
from lindung_cli.benchmarks.pipeline_result import PipelineResult, StageResult
from lindung_cli.benchmarks.stack import profile_path, profiled


def result(with_baseline: bool = True) -> PipelineResult:
    return PipelineResult(
        label="1 each",
        workers=100,
        programme_code="BENCH-0001",
        instances={"registry": 1},
        submit_s=0.5,
        message_bytes=600,
        stages=[StageResult("validated", "registry", "WorkerValidated", 100, 1.0, 3.0)],
        failures={"rejected": 0},
        enrolled=100,
        wall_s=4.0,
        latency_s={"submitted_to_enrolled": {"p50": 2.0, "p99": 3.9}},
        peak_mib={"registry": 120.0, "postgres": 300.0},
        baseline=BaselineResult(100, 600, 4, 0.01, 0.02) if with_baseline else None,
        events={"inbound": 100, "registry": 300, "enrollment": 200},
        machine_time={
            "cpu_s": 2.0,
            "ms_per_worker": 20.0,
            "cores_busy": 0.5,
            "seconds": 4.0,
            "by_process": {"registry": {"cpu_s": 1.5, "ms_per_worker": 15.0}},
        },
        sql={
            "per_worker": {"rows_written": 50.0, "commits": 0.3, "statements_run": 18.0},
            "by_service": {
                "registry": {
                    "per_worker": {"statements_run": 5.0, "rows_written": 17.0},
                    "top_statements": [{"calls": 250, "query": "INSERT INTO registry.events VALUES ($1)"}],
                }
            },
        },
        idle={"samples": 2, "enrolled": 2, "hops_s": {"posted→enrolled": {"p50": 0.3, "p95": 0.4}}},
        load_avgs=((1.0, 2.0, 3.0), (1.5, 2.0, 3.0)),
    )


def test_events_per_second_and_both_ratios_to_the_baseline() -> None:
    run = result()
    assert run.events_per_s == 150.0  # 600 events in 4 s
    assert run.per_s == 25.0
    assert run.baseline_ratio == 25.0 / 5_000  # 100 messages in 0.02 s
    assert run.events_baseline_ratio == 150.0 / 5_000
    data = run.as_dict()
    assert data["events_per_s"] == 150.0
    assert data["pipeline_to_baseline"] == 0.005 and data["events_to_baseline"] == 0.03
    assert data["load_avg_1_5_15m"] == {"before": [1.0, 2.0, 3.0], "after": [1.5, 2.0, 3.0]}
    assert data["machine_time"]["ms_per_worker"] == 20.0 and data["sql"]["per_worker"]["commits"] == 0.3
    assert data["idle_hops"]["samples"] == 2


def test_without_a_baseline_there_is_no_ratio() -> None:
    data = result(with_baseline=False).as_dict()
    assert data["pipeline_to_baseline"] is None and data["events_to_baseline"] is None


def report_of(run: PipelineResult) -> dict[str, Any]:
    return {**run.as_dict(), "broker": {"kind": "tansu", "start_s": 0.1}}


def test_the_summary_tells_the_whole_story() -> None:
    rows = dict(summary_rows(report_of(result())))
    assert rows["events per second through the stack"] == "150"
    assert rows["pipeline ÷ baseline (workers/s ÷ msgs/s)"] == "0.0050"
    assert rows["machine time per worker (CPU of every process ÷ workers)"].startswith("20.00 ms")
    assert rows["SQL per worker (all services)"] == "18.0 statements, 50.0 rows written, 0.30 commits"
    assert rows["idle hop posted→enrolled p50 / p95"] == "300 ms / 400 ms"
    assert rows["load average 1/5/15 min before → after"] == "[1.0, 2.0, 3.0] → [1.5, 2.0, 3.0]"


def test_the_whole_report_prints() -> None:
    console = Console(record=True, width=200)
    print_run(console, report_of(result()))
    printed = console.export_text()
    assert "Per process" in printed and "registry" in printed and "15.000" in printed
    assert "the whole stack" in printed and "20.000" in printed and "18.00" in printed
    assert "2.50" in printed and "INSERT INTO registry.events" in printed


def test_profile_all_several_or_one_and_only_first_instances() -> None:
    assert profiled("all", "claims", 0) and not profiled("all", "claims", 1)
    assert profiled("registry, enrollment", "enrollment", 0)
    assert not profiled("registry", "enrollment", 0) and not profiled(None, "registry", 0)
    out = Path("bench/results/profile-{service}-20261207T000000Z-1.txt")
    assert profile_path(out, "claims") == Path("bench/results/profile-claims-20261207T000000Z-1.txt")
