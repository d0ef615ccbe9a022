"""Base class of every event contract."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class DomainEvent(BaseModel):
    """A fact that happened, as a versioned, immutable contract.

    `event_type` and `schema_version` identify the contract; `topic` is where it is published.
    Payloads are keyed on the bus by `worker_id` when the event concerns one worker, so that
    each worker's events stay in order on one partition.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1
    topic: ClassVar[str]
    # Fields holding personal data (NIK, name, birth date, address, phone), by name at any depth
    # of the payload: stored encrypted under the key of the person `worker_id` names
    # (libs/privacy, docs/security.md "Forgetting a person").
    personal_fields: ClassVar[frozenset[str]] = frozenset()

    def partition_key(self) -> str | None:
        """The Kafka key: the worker id when the event is about one worker."""
        value = getattr(self, "worker_id", None)
        return str(value) if value is not None else None
