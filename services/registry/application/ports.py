"""What the registry's handlers read besides their streams, as ports: the read models a decision
needs (programmes, reference data, earlier nominations and seats, BPJS participants), the
reference-data lock, and the key vault. Implemented over the transaction's connection in
adapters/lookups.py; faked in unit tests."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Protocol

from libs.events.envelope import Envelope
from libs.eventstore.ports import StoreTransaction
from services.registry.domain.decisions import WorkerFacts

SenderKey = tuple[str, str, str]  # (producer, source_ref, programme_code)


@dataclass(frozen=True)
class ProgrammeRecord:
    """The registry's copy of a programme (ProgrammeDefined, seats kept current)."""

    code: str
    funder: str
    coverage_start: date
    coverage_end: date
    definition: dict[str, Any]


@dataclass(frozen=True)
class NominationRecord:
    """A nomination's row in the read model, as a change or a re-validation starts from it."""

    nomination_id: str
    worker_id: str
    programme_code: str
    regency_code: str
    nominated_at: datetime
    reference_version: str | None = None


@dataclass(frozen=True)
class CurrentExtract:
    """The reference extract of one kind now in use."""

    version: str
    rows: int
    sequence: int
    sha256: str


class Lookups(Protocol):
    """The read models and locks of one transaction, as the handlers ask for them."""

    async def hold_reference_lock(self, *, exclusive: bool = False) -> None:
        """Decisions hold the reference-data lock shared; an import holds it exclusively."""
        ...

    async def programme(self, code: str) -> ProgrammeRecord | None: ...

    async def reference_version(self) -> str:
        """The reference data consulted now, e.g. "p3ke:p3ke-1a2b3c4d5e6f;dtks:none"."""
        ...

    async def worker_facts(
        self, worker_ids: Collection[str], coverage_start: date, programme_code: str
    ) -> dict[str, WorkerFacts]:
        """Each worker's facts (every worker asked for), the stream's head read first."""
        ...

    async def lock_nomination(self, nomination_id: str) -> NominationRecord | None:
        """The nomination's row, locked until the transaction ends (None: no such nomination)."""
        ...

    async def earlier(self, producer: str, source_ref: str, programme_code: str) -> str | None:
        """The live nomination a regency system already sent under this source_ref, if any."""
        ...

    async def sent_before(self, keys: set[SenderKey]) -> set[SenderKey]:
        """Which of `keys` a regency system already sent (a live nomination under it)."""
        ...

    async def awaiting_revalidation(self, reference: str, today: date, limit: int) -> list[NominationRecord]:
        """Nominations open to a poverty decision not yet decided on `reference`, oldest first,
        locked (skipping those locked by another re-validation)."""
        ...

    async def current_extract(self, kind: str) -> CurrentExtract | None: ...

    async def replace_extract(self, kind: str, rows: Sequence[dict[str, object]]) -> None:
        """The rows of the `kind` extract, all replaced by `rows`."""
        ...

    @property
    def privacy_configured(self) -> bool:
        """Whether personal fields are sealed under per-person keys (a key vault)."""
        ...

    async def destroy_key(self, worker_id: str, *, by: str, reason: str) -> int | None:
        """Destroy the person's data key: its generation, or None when forgotten already."""
        ...

    async def seal_inbox_copies(self, copies: Sequence[tuple[Envelope, str]]) -> None:
        """Seal the personal fields of consumed messages' inbox rows under their persons' keys."""
        ...


LookupsOf = Callable[[StoreTransaction], Lookups]
"""The lookups of a transaction (the composition root picks the implementation)."""
