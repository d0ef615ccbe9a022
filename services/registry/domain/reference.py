"""The history of a reference extract (stream `reference-<kind>`): each import that changes the
extract is ReferenceDataImported, numbered in sequence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from libs.events.contracts.base import DomainEvent
from libs.events.contracts.registry import ReferenceDataImported
from libs.eventstore.decider import Decider, Recorded

KINDS = ("p3ke", "dtks")


def reference_stream(kind: str) -> str:
    """The stream of one kind of extract's versions."""
    return f"reference-{kind}"


@dataclass(frozen=True)
class ImportExtract:
    """A new version of the `kind` extract replaced the rows of the current one."""

    kind: str
    version: str
    rows: int
    skipped: int
    sha256: str
    imported_at: datetime
    source_name: str


def _evolve(sequence: int, recorded: Recorded) -> int:
    return recorded.envelope.aggregate_version


def _decide(command: ImportExtract, sequence: int) -> list[DomainEvent]:
    return [
        ReferenceDataImported(
            kind=command.kind,
            version=command.version,
            sequence=sequence + 1,
            rows=command.rows,
            skipped=command.skipped,
            sha256=command.sha256,
            imported_at=command.imported_at,
            source_name=command.source_name[:200],
        )
    ]


def reference_decider() -> Decider[ImportExtract, int]:
    """The extract history's decider: its state is the sequence of the latest import."""
    return Decider(
        kind="reference",
        initial=0,
        evolve=_evolve,
        decide=_decide,
        stream_of=lambda c: reference_stream(c.kind),
    )
