"""Fixtures of the bench tests: the session's `infra`, registered here so that its package
scope is this folder: a broker of this package's own, which no other package's consumer
groups ever reach."""

from __future__ import annotations

from tests.conftest import package_infra  # noqa: F401  (`infra`: a broker of this package's own)
