"""Fixtures of the bench tests: the session's `infra`, registered here so that its package
scope is this folder: a broker of this package's own, which no other package's consumer
groups ever reach."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from libs.settings import get_settings
from lindung_cli.main import app
from tests.conftest import (
    TEST_ENV,
    package_infra,  # noqa: F401  (`infra`: a broker of this package's own)
)
from tests.support.stack import kept_env


@contextmanager
def bench_environment(folder: Path) -> Iterator[Path]:
    """Short consumer-group sessions (fast joins); the suite's own servers are left alone."""
    with kept_env():
        os.environ.update(TEST_ENV)
        for name in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"):
            os.environ.pop(name, None)
        get_settings.cache_clear()
        yield folder


@pytest.fixture
def bench_env(tmp_path: Path) -> Iterator[Path]:
    """`bench_environment` in the test's own folder."""
    with bench_environment(tmp_path) as folder:
        yield folder


def run_pipeline_bench(bench_env: Path, workers: int, *options: str) -> dict[str, Any]:
    """`lindung bench pipeline --start` with a few workers; the report's one run (it must succeed)."""
    out = bench_env / "results"
    answer = CliRunner().invoke(
        app,
        [
            "bench",
            "pipeline",
            "--workers",
            str(workers),
            "--start",
            "--timeout-s",
            "120",
            "--out",
            str(out),
            "--log-dir",
            str(bench_env),
            *options,
        ],
    )
    assert answer.exit_code == 0, answer.output
    (report,) = out.glob("pipeline-*.json")
    (run,) = json.loads(report.read_text())["runs"]
    found: dict[str, Any] = run
    return found
