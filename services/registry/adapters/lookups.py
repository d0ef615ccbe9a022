"""The registry's lookups (application/ports.py) in PostgreSQL: the read models and locks of one
kit transaction, over its connection."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, delete, func, insert, or_, select, text
from sqlalchemy.types import Text

from libs.events.envelope import Envelope
from libs.eventstore.ports import StoreTransaction
from libs.eventstore.postgres import PostgresTransaction
from libs.pii import FORGOTTEN
from libs.privacy.envelopes import seal_inbox_copies
from libs.sql_arrays import any_of, unnest_arrays
from services.registry.adapters.tables import (
    nominations,
    participants,
    programmes,
    reference_dtks,
    reference_p3ke,
    reference_versions,
)
from services.registry.application.ports import CurrentExtract, NominationRecord, ProgrammeRecord, SenderKey
from services.registry.domain.decisions import WorkerFacts, funder_words
from services.registry.domain.nomination import ExistingNomination
from services.registry.domain.one_payer import holds_the_worker
from services.registry.domain.reasons import ReasonCode
from services.registry.domain.worker import stream_of

REFERENCE_LOCK = "registry.reference-data"
_SENDER_COLUMNS = {"submitted_by": Text(), "source_ref": Text(), "programme_code": Text()}
INSERT_BATCH = 5_000
# Rejections a new extract may turn around (re-validation).
POVERTY_REASONS = (
    ReasonCode.NOT_IN_P3KE_OR_DTKS,
    ReasonCode.DECILE_NOT_ALLOWED,
    ReasonCode.DTKS_NOT_ACCEPTED,
)


def _record(row: Any) -> NominationRecord:
    return NominationRecord(
        row.nomination_id,
        row.worker_id,
        row.programme_code,
        row.regency_code,
        row.nominated_at,
        row.reference_version,
    )


class SqlLookups:
    """Lookups over a PostgreSQL transaction of the registry's store."""

    def __init__(self, tx: PostgresTransaction) -> None:
        self.tx = tx
        self.conn = tx.conn

    async def hold_reference_lock(self, *, exclusive: bool = False) -> None:
        fn = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
        await self.conn.execute(text(f"SELECT {fn}(hashtext(:k))"), {"k": REFERENCE_LOCK})

    async def programme(self, code: str) -> ProgrammeRecord | None:
        row = (await self.conn.execute(select(programmes).where(programmes.c.programme_code == code))).first()
        if row is None:
            return None
        return ProgrammeRecord(code, row.funder, row.coverage_start, row.coverage_end, row.definition)

    async def reference_version(self) -> str:
        versions = {r.kind: r.version for r in await self.conn.execute(select(reference_versions))}
        return f"p3ke:{versions.get('p3ke', 'none')};dtks:{versions.get('dtks', 'none')}"

    async def worker_facts(
        self, worker_ids: Collection[str], coverage_start: date, programme_code: str
    ) -> dict[str, WorkerFacts]:
        """Earlier nominations count only while they keep the worker (domain/one_payer.py:
        pending, awaiting allocation, or holding a seat; waiting only in `programme_code`).

        Heads are read first: any fact read afterwards is at least as new, so a decision made on
        them fails (a lost race) if something about the worker changed after it was read."""
        ids = sorted(set(worker_ids))
        facts = {w: WorkerFacts() for w in ids}
        if not ids:
            return facts
        events = self.tx.store.tables.events
        heads = await self.conn.execute(
            select(events.c.aggregate_id, func.max(events.c.aggregate_version))
            .where(any_of(events.c.aggregate_id, [stream_of(w) for w in ids]))
            .group_by(events.c.aggregate_id)
        )
        for stream, version in heads:
            facts[stream.removeprefix("worker-")].head = int(version)
        p3ke = select(reference_p3ke.c.worker_id, reference_p3ke.c.decile).where(
            any_of(reference_p3ke.c.worker_id, ids)
        )
        for row in await self.conn.execute(p3ke):
            facts[row.worker_id].p3ke_desil = row.decile
        dtks = select(reference_dtks.c.worker_id).where(any_of(reference_dtks.c.worker_id, ids))
        for row in await self.conn.execute(dtks):
            facts[row.worker_id].in_dtks = True
        # Filtered on worker id alone (status in Python): during a bulk load the planner's
        # statistics lag behind and a status filter in SQL tempts it into scanning every pending row.
        existing = await self.conn.execute(
            select(
                nominations.c.worker_id,
                nominations.c.nomination_id,
                nominations.c.regency_code,
                nominations.c.funder,
                nominations.c.status,
                nominations.c.seat,
                nominations.c.programme_code,
                programmes.c.definition["name"].astext.label("programme_name"),
                programmes.c.coverage_start,
                programmes.c.coverage_end,
            )
            .join(programmes, programmes.c.programme_code == nominations.c.programme_code)
            .where(any_of(nominations.c.worker_id, ids))
            .order_by(nominations.c.nominated_at, nominations.c.nomination_id)
        )
        for r in existing:
            if not holds_the_worker(r.status, r.seat, same_programme=r.programme_code == programme_code):
                continue
            facts[r.worker_id].existing.append(
                ExistingNomination(
                    r.nomination_id,
                    r.regency_code,
                    funder_words(r.funder),
                    r.coverage_start,
                    r.coverage_end,
                    r.programme_code,
                    r.programme_name or r.programme_code,
                )
            )
        active = select(participants.c.worker_id, participants.c.kpj).where(
            any_of(participants.c.worker_id, ids),
            participants.c.active.is_(True),
            participants.c.coverage_end >= coverage_start,
        )
        for row in await self.conn.execute(active):
            facts[row.worker_id].active_kpj = row.kpj
        return facts

    async def lock_nomination(self, nomination_id: str) -> NominationRecord | None:
        query = select(nominations).where(nominations.c.nomination_id == nomination_id).with_for_update()
        row = (await self.conn.execute(query)).first()
        return None if row is None else _record(row)

    async def earlier(self, producer: str, source_ref: str, programme_code: str) -> str | None:
        row = (
            await self.conn.execute(
                select(nominations.c.nomination_id)
                .where(
                    nominations.c.channel == "kafka",
                    nominations.c.submitted_by == producer,
                    nominations.c.source_ref == source_ref,
                    nominations.c.programme_code == programme_code,
                    nominations.c.status != "withdrawn",
                )
                .order_by(nominations.c.nominated_at.desc())
                .limit(1)
            )
        ).first()
        return row.nomination_id if row else None

    async def sent_before(self, keys: set[SenderKey]) -> set[SenderKey]:
        if not keys:
            return set()
        # The keys as three arrays joined (one statement text whatever their number).
        sent = unnest_arrays(_SENDER_COLUMNS, [list(column) for column in zip(*sorted(keys), strict=True)])
        n = nominations.c
        rows = await self.conn.execute(
            select(n.submitted_by, n.source_ref, n.programme_code)
            .join(
                sent,
                and_(
                    n.submitted_by == sent.c.submitted_by,
                    n.source_ref == sent.c.source_ref,
                    n.programme_code == sent.c.programme_code,
                ),
            )
            .where(n.channel == "kafka", n.status != "withdrawn")
            .distinct()
        )
        return {(r.submitted_by, r.source_ref, r.programme_code) for r in rows}

    async def awaiting_revalidation(self, reference: str, today: date, limit: int) -> list[NominationRecord]:
        poverty = or_(*(nominations.c.reasons.contains([{"code": code.value}]) for code in POVERTY_REASONS))
        rows = await self.conn.execute(
            select(nominations)
            .join(programmes, programmes.c.programme_code == nominations.c.programme_code)
            .where(
                or_(nominations.c.status == "pending", (nominations.c.status == "rejected") & poverty),
                nominations.c.reference_version.is_distinct_from(reference),
                programmes.c.coverage_end >= today,
                nominations.c.nik != FORGOTTEN,  # a forgotten person's nomination is never decided again
            )
            .order_by(nominations.c.nominated_at, nominations.c.nomination_id)
            .limit(limit)
            .with_for_update(of=nominations, skip_locked=True)
        )
        return [_record(r) for r in rows]

    async def current_extract(self, kind: str) -> CurrentExtract | None:
        query = select(reference_versions).where(reference_versions.c.kind == kind)
        row = (await self.conn.execute(query)).first()
        return None if row is None else CurrentExtract(row.version, row.rows, row.sequence, row.sha256)

    async def replace_extract(self, kind: str, rows: Sequence[dict[str, object]]) -> None:
        table = reference_p3ke if kind == "p3ke" else reference_dtks
        await self.conn.execute(delete(table))
        for start in range(0, len(rows), INSERT_BATCH):
            await self.conn.execute(insert(table), list(rows[start : start + INSERT_BATCH]))

    @property
    def privacy_configured(self) -> bool:
        return self.tx.store.vault is not None

    async def destroy_key(self, worker_id: str, *, by: str, reason: str) -> int | None:
        vault = self.tx.store.vault
        if vault is None:
            return None
        tombstone = await vault.forget(self.conn, worker_id, by=by, reason=reason)
        return None if tombstone is None else tombstone.generation

    async def seal_inbox_copies(self, copies: Sequence[tuple[Envelope, str]]) -> None:
        store = self.tx.store
        await seal_inbox_copies(self.conn, store.vault, store.tables.inbox, copies)


def sql_lookups(tx: StoreTransaction) -> SqlLookups:
    """The lookups of a transaction of the registry's PostgreSQL store."""
    if not isinstance(tx, PostgresTransaction):
        raise TypeError(f"the registry's SQL lookups need a PostgreSQL transaction, not {type(tx).__name__}")
    return SqlLookups(tx)
