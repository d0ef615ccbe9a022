"""The claims book in PostgreSQL: the SQL of the port the claims handlers decide with
(application/ports.py), over the kit's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import or_, select, text

from libs.events.envelope import Envelope
from libs.eventstore.ports import StoreTransaction
from libs.eventstore.postgres import PostgresTransaction
from libs.privacy.envelopes import seal_inbox_copies
from services.claims.adapters import coverage
from services.claims.adapters.projections import project_consumed_batch
from services.claims.adapters.tables import claims
from services.claims.domain.checks import PaidClaim
from services.claims.domain.claim import paid_claim_from
from services.claims.domain.coverage import ProgrammeCoverage


class SqlClaimsBook:
    """The claims book on the claims schema, in one PostgreSQL transaction of the kit."""

    def __init__(self, tx: PostgresTransaction) -> None:
        self.tx = tx
        self.conn = tx.conn

    async def keep_coverage_facts(self, envelopes: Sequence[Envelope]) -> None:
        await project_consumed_batch(self.conn, envelopes)

    async def seal_inbox_copy(self, envelope: Envelope, worker_id: str) -> None:
        store = self.tx.store
        await seal_inbox_copies(self.conn, store.vault, store.tables.inbox, [(envelope, worker_id)])

    async def lock_worker(self, worker_id: str) -> None:
        await self.conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"claims-worker:{worker_id}"}
        )

    async def other_claims(self, claim: PaidClaim) -> list[PaidClaim]:
        rows = await self.conn.execute(
            select(claims)
            .where(
                or_(claims.c.kpj == claim.kpj, claims.c.worker_id == claim.nik),
                claims.c.claim_id != claim.claim_id,
            )
            .order_by(claims.c.recorded_at, claims.c.claim_id)
        )
        return [paid_claim_from(r) for r in rows]

    async def coverage_for(self, kpj: str, worker_id: str) -> list[ProgrammeCoverage]:
        return await coverage.coverage_for(self.conn, kpj, worker_id)


def sql_claims_book(tx: StoreTransaction) -> SqlClaimsBook:
    """The claims book of a kit transaction on PostgreSQL."""
    if not isinstance(tx, PostgresTransaction):
        raise TypeError(f"the claims book needs a PostgreSQL transaction, not {type(tx).__name__}")
    return SqlClaimsBook(tx)
