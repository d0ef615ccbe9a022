"""`lindung bench pipeline --start --broker kafka`: the same run on a stack of its own on Apache
Kafka, the plain-client baseline measured on that broker in the same run (numbers not judged)."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from tests.integration.bench.conftest import run_pipeline_bench

pytestmark = pytest.mark.integration

WORKERS = 60


def test_the_run_and_its_baseline_are_on_apache_kafka_which_is_stopped_afterwards(bench_env: Path) -> None:
    # No idle samples: the Tansu test measures them; here they would only add a wait per sample.
    run = run_pipeline_bench(bench_env, WORKERS, "--broker", "kafka", "--idle-samples", "0")
    assert run["complete"] and run["enrolled"] == WORKERS
    assert run["broker"]["kind"] == "kafka" and run["broker"]["start_s"] > 0
    # The JVM was sampled like every service; no Tansu was started.
    assert "kafka" in run["peak_mib"] and "tansu" not in run["peak_mib"]
    assert run["baseline"]["messages"] == WORKERS and run["baseline"]["per_s"] > 0
    # The JVM runs in a session of its own but stays our child: stopped and reaped with the stack.
    left = [p for p in psutil.Process().children(recursive=True) if p.name() == "java"]
    assert left == [], f"a JVM of the bench stack is still running: {left}"
