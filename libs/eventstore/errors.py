"""Errors of the event store."""

from __future__ import annotations


class ConcurrencyError(Exception):
    """Someone else appended to the stream first: reload the aggregate and decide again."""

    def __init__(self, aggregate_id: str, expected_version: int | None, actual_version: int):
        self.aggregate_id = aggregate_id
        self.expected_version = expected_version
        self.actual_version = actual_version
        super().__init__(
            f"stream {aggregate_id!r}: expected version {expected_version}, found {actual_version}"
        )
