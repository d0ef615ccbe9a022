"""What `verify` reports: the breaks it found, and how much it checked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

BreakKind = Literal[
    "hash_mismatch",
    "broken_link",
    "missing_versions",
    "outbox_copy_differs",
    "outbox_event_missing",
    "consumer_copy_differs",
    "consumer_event_missing",
    "unreadable",
]


@dataclass(frozen=True)
class ChainBreak:
    """One piece of evidence that a store was changed outside the application."""

    schema: str
    stream: str
    version: int | None
    kind: BreakKind
    detail: str
    position: int | None = None

    def describe(self) -> str:
        where = f"{self.schema} stream {self.stream!r}"
        if self.version is not None:
            where += f" version {self.version}"
        return f"{where}: {self.kind.replace('_', ' ')} ({self.detail})"


@dataclass
class VerifyReport:
    """Streams and events checked per schema, and every break found."""

    streams: dict[str, int] = field(default_factory=dict)
    events: dict[str, int] = field(default_factory=dict)
    copies: dict[str, int] = field(default_factory=dict)
    breaks: list[ChainBreak] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks
