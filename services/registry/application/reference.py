"""P3KE and DTKS extracts: versioned imports (events) and re-validation when a version arrives.

The rows of the current extract live in tables keyed by worker id (an HMAC of the NIK: no raw NIK
is stored); each import that changes the extract appends ReferenceDataImported (kind, version,
sequence, rows, sha256 of the file, imported_at) to the stream `reference-<kind>`
(domain/reference.py), so the version history is in the event log. Importing the same file again
changes nothing.

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
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from libs.events.contracts.registry import ReferenceDataImported, WorkerValidated
from libs.events.envelope import utcnow
from libs.eventstore.kit import Origin, StreamKit, handle
from libs.eventstore.ports import StoreTransaction
from libs.identity import worker_id_for
from services.registry.application.nominate import WORKERS, load_programme
from services.registry.application.ports import LookupsOf, NominationRecord
from services.registry.domain.reference import KINDS, ImportExtract, reference_decider
from services.registry.domain.worker import Revalidate, WorkerState, stream_of

__all__ = ["KINDS", "Reference", "ReferenceFileError", "ReferenceImport", "Revalidation"]

REVALIDATION_BATCH = 200
EXTRACTS = reference_decider()


class ReferenceFileError(ValueError):
    """The extract cannot be read (message in Indonesian for the officer)."""


@dataclass
class Revalidation:
    """What one re-validation sweep did."""

    revalidated: int = 0
    validated: int = 0
    rejected: int = 0

    def add(self, other: Revalidation) -> None:
        """Count `other`'s work in this one."""
        self.revalidated += other.revalidated
        self.validated += other.validated
        self.rejected += other.rejected


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


def read_extract(kind: str, text: str, pepper: str, version: str) -> tuple[list[dict[str, object]], int]:
    """The extract's rows keyed by worker id (last row of a NIK wins), and how many were skipped."""
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


@dataclass(frozen=True)
class Reference:
    """Reference-data imports and re-validation (the composition root binds its settings)."""

    pepper: str
    today: Callable[[], date]
    lookups: LookupsOf
    now: Callable[[], datetime] = utcnow

    async def import_extract(
        self, kit: StreamKit, kind: str, content: bytes, source_name: str = ""
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
        rows, skipped = read_extract(kind, text, self.pepper, version)

        async def work(tx: StoreTransaction) -> ReferenceImport:
            lookups = self.lookups(tx)
            await lookups.hold_reference_lock(exclusive=True)
            current = await lookups.current_extract(kind)
            if current is not None and current.sha256 == sha256:
                return ReferenceImport(kind, version, current.rows, skipped, current.sequence, sha256, False)
            await lookups.replace_extract(kind, rows)
            command = ImportExtract(kind, version, len(rows), skipped, sha256, self.now(), source_name)
            (decision,) = await handle(tx, EXTRACTS, [command], origin=Origin.new())
            event = decision.events[0]
            assert isinstance(event, ReferenceDataImported)
            return ReferenceImport(kind, version, len(rows), skipped, event.sequence, sha256, True)

        return await kit.transact(work)

    async def revalidate(
        self, kit: StreamKit, *, trigger: str, batch: int = REVALIDATION_BATCH
    ) -> Revalidation:
        """Decide again every nomination waiting on reference data, `batch` per transaction.

        Resumable and safe to run twice at once: a nomination already decided with the current
        version is not selected again, and rows being re-decided elsewhere are skipped.
        """
        summary = Revalidation()
        today = self.today()
        while True:

            async def work(tx: StoreTransaction) -> tuple[int, Revalidation]:
                return await self._revalidate_batch(tx, trigger=trigger, today=today, limit=batch)

            selected, done = await kit.transact(work)
            summary.add(done)
            if selected < batch or done.revalidated == 0:
                return summary

    async def _revalidate_batch(
        self, tx: StoreTransaction, *, trigger: str, today: date, limit: int
    ) -> tuple[int, Revalidation]:
        lookups = self.lookups(tx)
        await lookups.hold_reference_lock()
        reference = await lookups.reference_version()
        rows = await lookups.awaiting_revalidation(reference, today, limit)
        by_programme: dict[str, list[NominationRecord]] = defaultdict(list)
        for row in rows:
            by_programme[row.programme_code].append(row)
        origin = Origin.new()
        done = Revalidation()
        for code, members in by_programme.items():
            programme = await load_programme(lookups, code, today)
            workers = [r.worker_id for r in members]
            facts = await lookups.worker_facts(workers, programme.policy.coverage_start, programme.code)
            open_ = await self._still_open(tx, members)
            commands = [
                Revalidate(
                    row.worker_id,
                    row.nomination_id,
                    programme,
                    facts[row.worker_id],
                    reference,
                    row.nominated_at,
                    row.reference_version,
                    trigger,
                )
                for row in members
                if row.nomination_id in open_
            ]
            for decision in await handle(tx, WORKERS, commands, origin=origin):
                done.revalidated += 1
                if isinstance(decision.events[-1], WorkerValidated):
                    done.validated += 1
                else:
                    done.rejected += 1
        return len(rows), done

    @staticmethod
    async def _still_open(tx: StoreTransaction, rows: Sequence[NominationRecord]) -> set[str]:
        """The nominations whose streams say they are pending or rejected."""
        streams = await tx.load(list(dict.fromkeys(stream_of(r.worker_id) for r in rows)))
        states = {s: WORKERS.fold(loaded.recorded, WorkerState()) for s, loaded in streams.items()}
        open_: set[str] = set()
        for row in rows:
            nomination = states[stream_of(row.worker_id)].nominations.get(row.nomination_id)
            if nomination is not None and nomination.status in ("pending", "rejected"):
                open_.add(row.nomination_id)
        return open_
