"""Fixtures of the bench tests: the session's `infra`, registered here so that its package
scope is this folder: a broker of this package's own, which no other package's consumer
groups ever reach."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from libs.settings import get_settings
from tests.conftest import (
    TEST_ENV,
    package_infra,  # noqa: F401  (`infra`: a broker of this package's own)
)


@pytest.fixture
def bench_env(tmp_path: Path) -> Iterator[Path]:
    """Short consumer-group sessions (fast joins); the suite's own servers are left alone."""
    saved = dict(os.environ)
    os.environ.update(TEST_ENV)
    for name in ("DATABASE_URL", "KAFKA_BOOTSTRAP_SERVERS"):
        os.environ.pop(name, None)
    get_settings.cache_clear()
    try:
        yield tmp_path
    finally:
        os.environ.clear()
        os.environ.update(saved)
        get_settings.cache_clear()
