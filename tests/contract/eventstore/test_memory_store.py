"""The store contract on the in-memory store."""

from __future__ import annotations

import pytest

from libs.eventstore.memory import InMemoryStore
from tests.contract.eventstore.cases import StoreContract


class TestInMemoryStore(StoreContract):
    @pytest.fixture
    def store(self) -> InMemoryStore:
        return InMemoryStore("ledger")
