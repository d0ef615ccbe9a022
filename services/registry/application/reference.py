"""P3KE and DTKS extracts: versioned imports (events) and re-validation when a version arrives.

The rows of the current extract live in tables keyed by worker id (an HMAC of the NIK: no raw NIK
is stored); each import that changes the extract appends ReferenceDataImported (kind, version,
sequence, rows, sha256 of the file, imported_at) to the stream `reference-<kind>`, so the version
history is in the event log. Importing the same file again changes nothing.

An import holds the reference-data lock exclusively: decisions (which hold it shared) see either
the old extract with its version or the new one with its version, never a mix. Afterwards,
nominations still open to a poverty decision — rejected for NOT_IN_P3KE_OR_DTKS or
DECILE_NOT_ALLOWED, or still pending — of programmes whose coverage has not ended are decided
again: NominationRevalidated then a new WorkerValidated/WorkerRejected naming the new version.
"""

from __future__ import annotations

import csv
import hashlib
import io
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events.contracts.registry import NominationRevalidated, ReferenceDataImported, WorkerValidated
from libs.events.envelope import utcnow
from libs.eventstore.store import EventStore
from libs.identity import worker_id_for
from libs.pii import FORGOTTEN
from services.registry.adapters.tables import (
    nominations,
    programmes,
    reference_dtks,
    reference_p3ke,
    reference_versions,
)
from services.registry.application.nominate import (
    current_reference_version,
    evaluate,
    hold_reference_lock,
    in_transaction_with_retries,
    load_facts,
    load_programme,
    outcome_event,
    remember,
    stream_of,
)
from services.registry.application.streams import fold_nomination
from services.registry.domain.reasons import ReasonCode

BATCH = 5_000
REVALIDATION_BATCH = 200
KINDS = ("p3ke", "dtks")
POVERTY_REASONS = (
    ReasonCode.NOT_IN_P3KE_OR_DTKS,
    ReasonCode.DECILE_NOT_ALLOWED,
    ReasonCode.DTKS_NOT_ACCEPTED,
)


class ReferenceFileError(ValueError):
    """The extract cannot be read (message in Indonesian for the officer)."""


@dataclass
class Revalidation:
    """What one re-validation sweep did."""

    revalidated: int = 0
    validated: int = 0
    rejected: int = 0


@dataclass
class ReferenceImport:
    kind: str
    version: str
    rows: int
    skipped: int
    sequence: int
    sha256: str
    changed: bool
    revalidation: Revalidation = field(default_factory=Revalidation)


def reference_stream(kind: str) -> str:
    return f"reference-{kind}"


def _rows(kind: str, text: str, pepper: str, version: str) -> tuple[list[dict[str, object]], int]:
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    fields = {f.strip().lower() for f in reader.fieldnames or []}
    if "nik" not in fields or (kind == "p3ke" and "desil" not in fields):
        raise ReferenceFileError(
            "Berkas harus memiliki kolom 'nik'" + (" dan 'desil'." if kind == "p3ke" else ".")
        )
    rows: dict[str, dict[str, object]] = {}
    skipped = 0
    for raw in reader:
        row = {k.strip().lower(): (v or "").strip() for k, v in raw.items() if k}
        nik = row["nik"].replace(" ", "").lstrip("'")
        if len(nik) != 16 or not nik.isdigit():
            skipped += 1
            continue
        worker_id = worker_id_for(nik, pepper)
        if kind == "p3ke":
            desil = row["desil"].removesuffix(".0")
            if not desil.isdigit() or not 1 <= int(desil) <= 10:
                skipped += 1
                continue
            rows[worker_id] = {"worker_id": worker_id, "decile": int(desil), "version": version}
        else:
            rows[worker_id] = {"worker_id": worker_id, "version": version}
    return list(rows.values()), skipped


async def import_reference(
    engine: AsyncEngine, store: EventStore, kind: str, content: bytes, pepper: str, source_name: str = ""
) -> ReferenceImport:
    """Replace the current extract of `kind` (p3ke | dtks) with `content` (CSV, UTF-8), as an event."""
    if kind not in KINDS:
        raise ReferenceFileError(f"Jenis data rujukan '{kind}' tidak dikenal (p3ke atau dtks).")
    sha256 = hashlib.sha256(content).hexdigest()
    version = f"{kind}-{sha256[:12]}"
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ReferenceFileError("Berkas harus berupa CSV dengan pengodean UTF-8.") from exc
    rows, skipped = _rows(kind, text, pepper, version)
    table = reference_p3ke if kind == "p3ke" else reference_dtks
    async with engine.begin() as conn:
        await hold_reference_lock(conn, exclusive=True)
        head, _ = await store.head(conn, reference_stream(kind))
        current = (
            await conn.execute(select(reference_versions).where(reference_versions.c.kind == kind))
        ).first()
        if current is not None and current.sha256 == sha256:
            return ReferenceImport(kind, version, current.rows, skipped, current.sequence, sha256, False)
        await conn.execute(delete(table))
        for start in range(0, len(rows), BATCH):
            await conn.execute(insert(table), rows[start : start + BATCH])
        event = ReferenceDataImported(
            kind=kind,
            version=version,
            sequence=head + 1,
            rows=len(rows),
            skipped=skipped,
            sha256=sha256,
            imported_at=utcnow(),
            source_name=source_name[:200],
        )
        await store.append(
            conn, reference_stream(kind), [event], expected_version=head, correlation_id=uuid.uuid4()
        )
    return ReferenceImport(kind, version, len(rows), skipped, head + 1, sha256, True)


async def reference_history(engine: AsyncEngine, store: EventStore, kind: str) -> list[dict[str, Any]]:
    """Every version of `kind` ever imported, oldest first (from the event stream)."""
    async with engine.connect() as conn:
        envelopes = await store.load(conn, reference_stream(kind))
    return [{**e.payload, "event_id": str(e.event_id)} for e in envelopes]


def _needs_revalidation(reference: str, today: date) -> Any:
    poverty = or_(*(nominations.c.reasons.contains([{"code": code.value}]) for code in POVERTY_REASONS))
    return (
        or_(nominations.c.status == "pending", (nominations.c.status == "rejected") & poverty),
        nominations.c.reference_version.is_distinct_from(reference),
        programmes.c.coverage_end >= today,
        nominations.c.nik != FORGOTTEN,  # a forgotten person's nomination is never decided again
    )


async def _revalidate_batch(
    conn: AsyncConnection,
    store: EventStore,
    *,
    pepper: str,
    trigger: str,
    today: date,
    limit: int,
    summary: Revalidation,
) -> int:
    await hold_reference_lock(conn)
    reference = await current_reference_version(conn)
    rows = (
        await conn.execute(
            select(nominations.c.nomination_id, nominations.c.worker_id, nominations.c.programme_code,
                   nominations.c.nominated_at, nominations.c.reference_version)
            .join(programmes, programmes.c.programme_code == nominations.c.programme_code)
            .where(*_needs_revalidation(reference, today))
            .order_by(nominations.c.nominated_at, nominations.c.nomination_id)
            .limit(limit)
            .with_for_update(of=nominations, skip_locked=True)
        )
    ).all()  # fmt: skip
    by_programme: dict[str, list[Any]] = defaultdict(list)
    for row in rows:
        by_programme[row.programme_code].append(row)
    correlation = uuid.uuid4()
    done = Revalidation()
    for code, members in by_programme.items():
        programme = await load_programme(conn, code, today)
        workers = [r.worker_id for r in members]
        facts = await load_facts(conn, store, workers, programme.policy.coverage_start, programme.code)
        for row in members:
            known = facts[row.worker_id]
            state = fold_nomination(await store.load(conn, stream_of(row.worker_id)), row.nomination_id)
            if state is None or state.status not in ("pending", "rejected"):
                continue
            context = known.context(excluding=row.nomination_id)
            outcome = evaluate(state.source, programme, context)
            decided = outcome_event(state.source, outcome, context, reference, row.nominated_at)
            marker = NominationRevalidated(
                worker_id=row.worker_id,
                nomination_id=row.nomination_id,
                programme_code=code,
                regency_code=state.source.regency_code,
                reference_version=reference,
                previous_reference_version=row.reference_version,
                previous_status="pending" if state.status == "pending" else "rejected",
                trigger=trigger,
            )
            await store.append(
                conn,
                stream_of(row.worker_id),
                [marker, decided],
                expected_version=known.head,
                correlation_id=correlation,
            )
            known.head += 2
            remember(known, decided, programme)
            done.revalidated += 1
            if isinstance(decided, WorkerValidated):
                done.validated += 1
            else:
                done.rejected += 1
    summary.revalidated += done.revalidated
    summary.validated += done.validated
    summary.rejected += done.rejected
    return len(rows)


async def revalidate(
    engine: AsyncEngine,
    store: EventStore,
    *,
    pepper: str,
    trigger: str,
    today: date,
    batch: int = REVALIDATION_BATCH,
) -> Revalidation:
    """Decide again every nomination waiting on reference data, `batch` per transaction.

    Resumable and safe to run twice at once: a nomination already decided with the current
    version is not selected again, and rows being re-decided elsewhere are skipped (SKIP LOCKED).
    """
    summary = Revalidation()
    day = today
    while True:
        partial = Revalidation()

        async def work(conn: AsyncConnection, partial: Revalidation = partial) -> int:
            partial.revalidated = partial.validated = partial.rejected = 0
            return await _revalidate_batch(
                conn,
                store,
                pepper=pepper,
                trigger=trigger,
                today=day,
                limit=batch,
                summary=partial,
            )

        selected: int = await in_transaction_with_retries(engine, work)
        summary.revalidated += partial.revalidated
        summary.validated += partial.validated
        summary.rejected += partial.rejected
        if selected < batch or partial.revalidated == 0:
            return summary
