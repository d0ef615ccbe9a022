"""A regency's nomination list (CSV/XLSX) through the nomination handler, in batches.

The file is read into rows (adapters/upload.py); a row that cannot be read is answered `invalid`
and recorded nowhere; a NIK repeated within the file is recorded and rejected with
DUPLICATE_IN_UPLOAD (naming the first row); every other row goes to the nomination handler in
batches of `batch` rows, each decided as one batch of the kit in one transaction, in file order.
Results come back batch by batch, so the HTTP API can stream them while the rest is decided.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from libs.events.contracts.common import Reason
from libs.eventstore.kit import Origin, StreamKit
from libs.eventstore.ports import StoreTransaction
from libs.pii import mask_nik
from services.registry.adapters.upload import UploadRow, UploadTable
from services.registry.application.commands import NominateWorker
from services.registry.application.nominate import (
    UPLOAD_BATCH,
    NominationRequest,
    NominationResult,
    Nominations,
    load_programme,
)
from services.registry.domain.answers import AnswerCode, answer
from services.registry.domain.decisions import reason_of
from services.registry.domain.rules import find_duplicates_in_upload


@dataclass
class RowResult:
    """The answer for one row of an upload."""

    row: int
    status: str  # validated | rejected | invalid
    nomination_id: str | None
    nik: str  # masked
    reasons: list[Reason] = field(default_factory=list)
    notes: list[Reason] = field(default_factory=list)  # warnings with a validated row

    def as_json(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "status": self.status,
            "nomination_id": self.nomination_id,
            "nik": self.nik,
            "reasons": [r.model_dump() for r in self.reasons],
            "notes": [r.model_dump() for r in self.notes],
        }


@dataclass
class UploadSummary:
    """Counts over an upload's rows (a rejected row counts once under each of its reasons)."""

    rows: int = 0
    validated: int = 0
    rejected: int = 0
    invalid: int = 0
    by_reason: Counter[str] = field(default_factory=Counter)

    def add(self, results: Sequence[RowResult]) -> None:
        for r in results:
            self.rows += 1
            if r.status == "validated":
                self.validated += 1
            elif r.status == "rejected":
                self.rejected += 1
            else:
                self.invalid += 1
            self.by_reason.update({reason.code for reason in r.reasons})

    def as_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "validated": self.validated,
            "rejected": self.rejected,
            "invalid": self.invalid,
            "by_reason": dict(sorted(self.by_reason.items(), key=lambda kv: (-kv[1], kv[0]))),
        }


@dataclass(frozen=True)
class PlannedRow:
    """One row, ready for the handler (`request`) or already answered (`invalid`)."""

    row: int
    nik: str
    request: NominationRequest | None
    invalid: list[Reason] = field(default_factory=list)


def plan_upload(
    rows: Sequence[UploadRow], *, programme_code: str, regency_code: str, source_name: str
) -> list[PlannedRow]:
    """Turn read rows into nomination requests (pure): unreadable rows invalid, repeats flagged."""
    repeats = find_duplicates_in_upload((r.row, r.nik) for r in rows)
    planned: list[PlannedRow] = []
    for row in rows:
        if row.problems:
            planned.append(PlannedRow(row.row, row.nik, None, [reason_of(p) for p in row.problems]))
            continue
        try:
            command = NominateWorker(
                programme_code=programme_code,
                regency_code=regency_code,
                source_ref=f"{source_name}#{row.row}"[-100:],
                **row.fields,
            )
        except ValidationError as exc:
            fields = ", ".join(sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]}))
            reason = reason_of(answer(AnswerCode.NOMINATION_INVALID, fields=fields))
            planned.append(PlannedRow(row.row, row.nik, None, [reason]))
            continue
        extra = (repeats[row.row],) if row.row in repeats else ()
        planned.append(PlannedRow(row.row, row.nik, NominationRequest(command, extra)))
    return planned


async def check_programme(kit: StreamKit, nominations: Nominations, programme_code: str) -> None:
    """Raise ProgrammeUnknown or ProgrammeEnded before any row is read into the handler."""

    async def work(tx: StoreTransaction) -> None:
        await load_programme(nominations.lookups(tx), programme_code, nominations.today())

    await kit.transact(work)


async def process_upload(
    kit: StreamKit,
    nominations: Nominations,
    table: UploadTable,
    *,
    programme_code: str,
    regency_code: str,
    source_name: str,
    submitted_by: str,
    batch: int = UPLOAD_BATCH,
) -> AsyncIterator[list[RowResult]]:
    """Decide every row, `batch` rows per transaction; yields each batch's results in file order."""
    planned = plan_upload(
        table.rows, programme_code=programme_code, regency_code=regency_code, source_name=source_name
    )
    for start in range(0, len(planned), batch):
        chunk = planned[start : start + batch]
        requests = [p.request for p in chunk if p.request is not None]

        async def work(
            tx: StoreTransaction, requests: list[NominationRequest] = requests
        ) -> list[NominationResult]:
            return await nominations.decide_in(
                tx,
                requests,
                programme_code=programme_code,
                channel="upload",
                submitted_by=submitted_by,
                origin=Origin.new(),
            )

        decided = iter(await kit.transact(work) if requests else [])
        results = []
        for p in chunk:
            if p.request is None:
                results.append(RowResult(p.row, "invalid", None, mask_nik(p.nik), p.invalid))
            else:
                r = next(decided)
                results.append(
                    RowResult(p.row, r.status, r.nomination_id, mask_nik(p.nik), r.reasons, r.notes)
                )
        yield results
