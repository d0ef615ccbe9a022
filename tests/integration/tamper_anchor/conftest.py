"""Fixtures of the tamper-evidence tests: the session's `infra`, registered here so that its
package scope is this folder: a broker of this package's own."""

from __future__ import annotations

from tests.conftest import package_infra  # noqa: F401  (`infra`: a broker of this package's own)
