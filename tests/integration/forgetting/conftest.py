"""A database (and a broker of this package's own) for the forgetting tests."""

from __future__ import annotations

from tests.conftest import package_infra  # noqa: F401  (`infra`: a broker of this package's own)
