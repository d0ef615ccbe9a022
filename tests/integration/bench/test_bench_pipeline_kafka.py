"""`lindung bench pipeline --start --broker kafka`: the same run on a stack of its own on Apache
Kafka, the plain-client baseline measured on that broker in the same run (numbers not judged)."""

from __future__ import annotations

import json
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from lindung_cli.main import app

pytestmark = pytest.mark.integration

WORKERS = 60


def test_the_run_and_its_baseline_are_on_apache_kafka_which_is_stopped_afterwards(bench_env: Path) -> None:
    out = bench_env / "results"
    answer = CliRunner().invoke(
        app,
        [
            "bench",
            "pipeline",
            "--workers",
            str(WORKERS),
            "--start",
            "--broker",
            "kafka",
            "--timeout-s",
            "120",
            "--out",
            str(out),
            "--log-dir",
            str(bench_env),
        ],
    )
    assert answer.exit_code == 0, answer.output
    (report,) = out.glob("pipeline-*.json")
    (run,) = json.loads(report.read_text())["runs"]
    assert run["complete"] and run["enrolled"] == WORKERS
    assert run["broker"]["kind"] == "kafka" and run["broker"]["start_s"] > 0
    # The JVM was sampled like every service; no Tansu was started.
    assert "kafka" in run["peak_mib"] and "tansu" not in run["peak_mib"]
    assert run["baseline"]["messages"] == WORKERS and run["baseline"]["per_s"] > 0
    # The JVM runs in a session of its own but stays our child: stopped and reaped with the stack.
    left = [p for p in psutil.Process().children(recursive=True) if p.name() == "java"]
    assert left == [], f"a JVM of the bench stack is still running: {left}"
