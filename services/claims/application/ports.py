"""What the claims handlers need of the service's read models, as a port: the SQL lives in
adapters/book.py, unit tests fake it (tests/unit/claims)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from libs.events.envelope import Envelope
from services.claims.domain.checks import PaidClaim
from services.claims.domain.coverage import ProgrammeCoverage


class ClaimsBook(Protocol):
    """The claims service's own tables, within one transaction."""

    async def keep_coverage_facts(self, envelopes: Sequence[Envelope]) -> None:
        """Keep what enrollment's coverage events say, in order (the consumed projector)."""
        ...

    async def seal_inbox_copy(self, envelope: Envelope, worker_id: str) -> None:
        """Seal the personal fields of a consumed ClaimPaid's inbox copy under the worker's key."""
        ...

    async def lock_worker(self, worker_id: str) -> None:
        """Hold the worker's claims until the transaction ends: one person may claim under two
        KPJs, which land on different partitions, and the duplicate-death check must see both."""
        ...

    async def other_claims(self, claim: PaidClaim) -> list[PaidClaim]:
        """Claims recorded under other claim ids for the same KPJ or the same worker, in
        recording order."""
        ...

    async def coverage_for(self, kpj: str, worker_id: str) -> list[ProgrammeCoverage]:
        """Every programme we paid (or pay) for the claim's KPJ or worker, with its facts."""
        ...
