"""The registry's HTTP API: nominations in (one, or a list upload), corrections, withdrawals,
reference data, and the read side (NIKs always masked)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Header, HTTPException, Query, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from libs.auth import (
    ADMINS,
    EVERYONE,
    READERS,
    WRITERS,
    Principal,
    actor,
    caller,
    ensure_regency_visible,
    ensure_regency_writable,
    listing_regency,
)
from libs.events import Envelope, decode
from libs.events.contracts.common import Reason
from libs.events.contracts.registry import (
    NominationCorrected,
    NominationRevalidated,
    NominationWithdrawn,
    WorkerNominated,
    WorkerRejected,
    WorkerValidated,
)
from libs.pii import mask_name, mask_nik
from libs.regions import region_by_code
from libs.runtime.service import Runtime, runtime_of
from services.registry.adapters.tables import nominations, programmes, reference_versions
from services.registry.adapters.upload import UploadError, ZipLimits, read_upload
from services.registry.application.changes import ChangeRefused, Correction, correct, withdraw
from services.registry.application.commands import NominateWorker
from services.registry.application.forget import ForgetRefused, forget
from services.registry.application.nominate import ProgrammeRefused, nominate, reason_of, stream_of
from services.registry.application.reference import (
    KINDS,
    ReferenceFileError,
    import_reference,
    reference_history,
    revalidate,
)
from services.registry.application.streams import CORRECTABLE
from services.registry.application.upload import UploadSummary, check_programme, process_upload
from services.registry.domain.answers import Answer, AnswerCode, answer, answer_table
from services.registry.domain.dates import birth_date_answer
from services.registry.domain.reasons import ReasonCode, Rejection, reason_table, reject
from services.registry.domain.rules import nik_regency_note
from services.registry.entrypoints.calendar import business_today

router = APIRouter()
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
OfficerHeader = Annotated[
    str | None, Header(alias="X-Lindung-Officer", description="Who acts (shown in the history).")
]
NDJSON = "application/x-ndjson"
# Province admins and regency officers (their own regency) nominate, correct and withdraw;
# auditors read; BPJS has nothing to do here.
Reader = Annotated[Principal, Depends(caller(*READERS))]
Writer = Annotated[Principal, Depends(caller(*WRITERS))]
Admin = Annotated[Principal, Depends(caller(*ADMINS))]
Anyone = Annotated[Principal, Depends(caller(*EVERYONE))]


class NominationAnswer(BaseModel):
    nomination_id: str | None
    worker_id: str
    status: str
    reasons: list[Reason]
    reference_version: str | None = None
    # Warnings with a validated nomination (e.g. NIK_ISSUED_ELSEWHERE), not reasons to refuse.
    notes: list[Reason] = []


class CorrectNomination(BaseModel):
    """Corrected fields of a rejected nomination; fields left out keep their value."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    nik: str | None = Field(default=None, max_length=32)
    full_name: str | None = Field(default=None, max_length=200)
    birth_date: date | None = None
    sex: str | None = Field(default=None, max_length=10)
    occupation: str | None = Field(default=None, max_length=100)
    kecamatan: str | None = Field(default=None, max_length=100)
    desa: str | None = Field(default=None, max_length=100)
    address: str | None = Field(default=None, max_length=300)
    phone: str | None = Field(default=None, max_length=30)
    sector: str | None = Field(default=None, max_length=20)
    decile: int | None = Field(default=None, ge=1, le=10)
    note: str = Field(default="", max_length=500, description="Why (shown in the history).")


class WithdrawNomination(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Literal["died", "moved", "declined", "other"]
    note: str = Field(default="", max_length=500)


def _refuse(status: int, why: Answer | Rejection, **extra: Any) -> HTTPException:
    return HTTPException(status, {"code": why.code.value, "message": why.message, **extra})


def _rules(rt: Runtime) -> dict[str, Any]:
    return {"pepper": rt.settings.nik_pepper, "today": business_today(rt.settings)()}


async def request_invalid(request: Request, exc: Exception) -> JSONResponse:
    """A request FastAPI could not read, answered in the documented shape with a Lindung code
    (installed for the registry by its entrypoint): a birth date that does not exist says so
    (BIRTH_DATE_NONEXISTENT); anything else names the fields to check (REQUEST_INVALID)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    fields = list(dict.fromkeys(".".join(str(p) for p in e["loc"] if p != "body") or "body" for e in errors))
    why = birth_date_answer(errors) or answer(AnswerCode.REQUEST_INVALID, fields=", ".join(fields))
    body = {"code": why.code.value, "message": why.message, "fields": fields}
    return JSONResponse({"detail": body}, status_code=422)


@router.post("/nominations", status_code=201, response_model=NominationAnswer, tags=["nominations"])
async def post_nomination(
    cmd: NominateWorker, rt: RuntimeDep, who: Writer, officer: OfficerHeader = None
) -> Any:
    """Nominate one worker. Answers with the validation outcome (and every reason for a rejection).

    A regency officer nominates for their own regency only (403 otherwise)."""
    ensure_regency_writable(who, _regency_of(cmd.regency_code))
    try:
        result = await nominate(
            rt.engine, rt.store, cmd, channel="http", submitted_by=actor(who, officer, "http"), **_rules(rt)
        )
    except ProgrammeRefused as exc:
        raise _refuse(exc.status, exc.answer) from exc
    rt.relay.wake()
    if result.status == "invalid":
        reasons = [r.model_dump() for r in result.reasons]
        raise _refuse(422, answer(AnswerCode.NOMINATION_INVALID), reasons=reasons)
    return NominationAnswer(**result.__dict__)


@router.post("/nominations/upload", tags=["nominations"])
async def upload_nominations(
    request: Request,
    rt: RuntimeDep,
    file: Annotated[UploadFile, File(description="The list: CSV (, or ; separated) or XLSX")],
    programme: Annotated[str, Query(description="Programme code, e.g. DEMO-SUMUT-2026")],
    regency: Annotated[str, Query(description="Kemendagri code of the nominating regency, e.g. 12.17")],
    who: Writer,
    officer: OfficerHeader = None,
) -> Any:
    """Upload a regency's list of nominations; answers with a result for every row.

    Columns (Indonesian headers, case and punctuation ignored, common variants accepted): NIK,
    nama, tanggal lahir, jenis kelamin, pekerjaan, kecamatan, desa/kelurahan, sektor; optional
    alamat, no. HP, desil. Each row is `validated`, `rejected` (recorded, with reasons) or
    `invalid` (unreadable, not recorded). With `Accept: application/x-ndjson` the answer streams
    one JSON line per batch of rows as they are decided, then a summary line. A regency officer
    uploads for their own regency only (403 otherwise).
    """
    ensure_regency_writable(who, _regency_of(regency))
    region = region_by_code(regency)
    if region is None:
        raise _refuse(422, reject(ReasonCode.REGENCY_UNKNOWN, regency_code=regency))
    regency_code = region.kemendagri_code
    try:
        await check_programme(rt.engine, programme, business_today(rt.settings)())
    except ProgrammeRefused as exc:
        raise _refuse(exc.status, exc.answer) from exc
    name = file.filename or "upload"
    limits = ZipLimits(rt.settings.upload_max_uncompressed_bytes, rt.settings.upload_max_compression_ratio)
    try:
        # The spooled file itself, never its bytes whole: a CSV is decoded as a stream, an XLSX's
        # zip directory checked before openpyxl opens it (the body limit already capped its size).
        table = await asyncio.to_thread(
            read_upload, file.file, name, max_rows=rt.settings.registry_upload_max_rows, zip_limits=limits
        )
    except UploadError as exc:
        raise _refuse(413 if exc.answer.code is AnswerCode.UPLOAD_TOO_LARGE else 422, exc.answer) from exc
    summary = UploadSummary()
    batches = process_upload(
        rt.engine,
        rt.store,
        table,
        programme_code=programme,
        regency_code=regency_code,
        source_name=name,
        submitted_by=actor(who, officer, f"upload:{regency_code}"),
        batch=rt.settings.registry_upload_batch_size,
        on_commit=rt.relay.wake,
        **_rules(rt),
    )
    head = {
        "programme_code": programme,
        "regency_code": regency_code,
        "file": name,
        "format": table.format,
        "header_row": table.header_row,
        "columns": table.columns,
        "ignored_columns": table.ignored_columns,
    }
    if NDJSON in request.headers.get("accept", ""):

        async def lines() -> AsyncIterator[bytes]:
            yield _line({"type": "start", **head, "rows": len(table.rows)})
            async for results in batches:
                summary.add(results)
                yield _line({"type": "rows", "results": [r.as_json() for r in results]})
            yield _line({"type": "summary", **head, **summary.as_json()})

        return StreamingResponse(lines(), media_type=NDJSON)
    results = []
    async for batch in batches:
        summary.add(batch)
        results += [r.as_json() for r in batch]
    return {**head, **summary.as_json(), "results": results}


def _line(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode() + b"\n"


def _regency_of(code: str) -> str:
    """The Kemendagri code `code` names (as written when it names no region)."""
    region = region_by_code(code.strip())
    return region.kemendagri_code if region else code.strip()


def _notes(row: Any) -> list[dict[str, Any]]:
    """What the officer should see with a validated nomination: a NIK issued in another regency
    (had the programme required a match, the nomination would have been rejected instead)."""
    if row.status != "validated":
        return []
    return [reason_of(n).model_dump() for n in nik_regency_note(row.nik[:4], row.regency_code)]


def _public(row: Any, who: Principal) -> dict[str, Any]:
    # NIKs are masked for everyone; names for whoever does not answer for the worker's regency.
    full_name = row.full_name if who.sees_personal_data(row.regency_code) else mask_name(row.full_name)
    return {
        "nomination_id": row.nomination_id,
        "worker_id": row.worker_id,
        "programme_code": row.programme_code,
        "regency_code": row.regency_code,
        "nik": mask_nik(row.nik),
        "full_name": full_name,
        "occupation": row.occupation,
        "sector": row.sector,
        "decile": row.decile,
        "funder": row.funder,
        "channel": row.channel,
        "source_ref": row.source_ref,
        "status": row.status,
        # What allocation and enrollment decided (docs/registry.md §3a), and who keeps the worker.
        "seat": row.seat,
        "held_by": row.held_by,
        "reasons": row.reasons,
        "notes": _notes(row),
        "poverty_source": row.poverty_source,
        "reference_version": row.reference_version,
        "corrections": row.corrections,
        "nominated_at": row.nominated_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


@router.get("/nominations", tags=["nominations"])
async def list_nominations(
    rt: RuntimeDep,
    who: Reader,
    regency: str | None = None,
    status: str | None = None,
    reason: str | None = None,
    programme: str | None = None,
    channel: str | None = None,
    source_ref: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Nominations, filtered by regency, status, reason code, programme, channel or source_ref;
    NIKs masked. Ordered by nomination time. A regency officer sees their own regency only."""
    regency = listing_regency(who, regency)
    query = select(nominations)
    if regency:
        query = query.where(nominations.c.regency_code == regency)
    if status:
        query = query.where(nominations.c.status == status)
    if programme:
        query = query.where(nominations.c.programme_code == programme)
    if channel:
        query = query.where(nominations.c.channel == channel)
    if source_ref:
        query = query.where(nominations.c.source_ref == source_ref)
    if reason:
        query = query.where(nominations.c.reasons.contains([{"code": reason}]))
    async with rt.engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = await conn.execute(
            query.order_by(nominations.c.nominated_at, nominations.c.nomination_id)
            .offset((page - 1) * per_page)
            .limit(per_page)
        )
        items = [_public(r, who) for r in rows]
    return {"total": total, "page": page, "per_page": per_page, "items": items}


async def _row(rt: Runtime, nomination_id: str, who: Principal, *, change: bool = False) -> Any:
    """The nomination's row, if `who` may read it (or change it, with `change`); else 404 / 403."""
    async with rt.engine.connect() as conn:
        row = (
            await conn.execute(select(nominations).where(nominations.c.nomination_id == nomination_id))
        ).first()
    if row is None:
        raise _refuse(404, answer(AnswerCode.NOMINATION_NOT_FOUND))
    if change:
        ensure_regency_writable(who, row.regency_code)
    else:
        ensure_regency_visible(who, row.regency_code)
    return row


@router.get("/nominations/{nomination_id}", tags=["nominations"])
async def get_nomination(nomination_id: str, rt: RuntimeDep, who: Reader) -> dict[str, Any]:
    """One nomination (NIK masked)."""
    return _public(await _row(rt, nomination_id, who), who)


@router.get("/nominations/{nomination_id}/history", tags=["nominations"])
async def nomination_history(nomination_id: str, rt: RuntimeDep, who: Reader) -> list[dict[str, Any]]:
    """Every event of one nomination, oldest first (NIKs masked, names left out)."""
    row = await _row(rt, nomination_id, who)
    streams: list[str] = [stream_of(row.worker_id)]
    history: list[Envelope] = []
    async with rt.engine.connect() as conn:
        while streams:
            envelopes = await rt.store.load(conn, streams.pop())
            mine = [e for e in envelopes if e.payload.get("nomination_id") == nomination_id]
            for envelope in mine:
                event = decode(envelope)
                if isinstance(event, NominationCorrected) and event.previous_worker_id:
                    streams.append(stream_of(event.previous_worker_id))
            history = mine + history
    return [_history_entry(e) for e in sorted(history, key=lambda e: e.occurred_at)]


def _history_entry(envelope: Any) -> dict[str, Any]:
    event = decode(envelope)
    entry: dict[str, Any] = {
        "event_type": envelope.event_type,
        "occurred_at": envelope.occurred_at.isoformat(),
        "stream": envelope.aggregate_id,
        "version": envelope.aggregate_version,
    }
    if isinstance(event, WorkerNominated):
        entry.update(channel=event.channel, submitted_by=event.submitted_by, nik=mask_nik(event.nik))
    elif isinstance(event, NominationCorrected):
        entry.update(corrected_by=event.corrected_by, fields=event.corrected_fields, note=event.note)
        entry["nik"] = mask_nik(event.nik)
    elif isinstance(event, WorkerValidated):
        entry.update(status="validated", reference_version=event.reference_version)
        entry["poverty_source"] = event.poverty_source
    elif isinstance(event, WorkerRejected):
        entry.update(status="rejected", reasons=[r.model_dump() for r in event.reasons])
        entry["reference_version"] = event.reference_version
    elif isinstance(event, NominationRevalidated):
        entry.update(trigger=event.trigger, reference_version=event.reference_version)
    elif isinstance(event, NominationWithdrawn):
        entry.update(status="withdrawn", reason=event.reason, note=event.note)
        entry["withdrawn_by"] = event.withdrawn_by
    return entry


@router.post(
    "/nominations/{nomination_id}/corrections",
    status_code=201,
    response_model=NominationAnswer,
    tags=["nominations"],
)
async def correct_nomination(
    nomination_id: str, body: CorrectNomination, rt: RuntimeDep, who: Writer, officer: OfficerHeader = None
) -> Any:
    """Correct a rejected nomination; it is validated again and its history kept (NominationCorrected
    then WorkerValidated/WorkerRejected). 409 when the nomination is not rejected."""
    await _row(rt, nomination_id, who, change=True)
    changes = {name: getattr(body, name) for name in body.model_fields_set if name in CORRECTABLE}
    if not changes:
        raise _refuse(422, answer(AnswerCode.CORRECTION_EMPTY))
    correction = Correction(changes, corrected_by=actor(who, officer, "http"), note=body.note)
    try:
        result = await correct(rt.engine, rt.store, nomination_id, correction, **_rules(rt))
    except ChangeRefused as exc:
        raise _refuse(exc.status, exc.answer) from exc
    except ProgrammeRefused as exc:
        raise _refuse(exc.status, exc.answer) from exc
    rt.relay.wake()
    if result.status == "invalid":
        reasons = [r.model_dump() for r in result.reasons]
        raise _refuse(422, answer(AnswerCode.NOMINATION_INVALID), reasons=reasons)
    return NominationAnswer(**result.__dict__)


@router.post("/nominations/{nomination_id}/withdrawal", status_code=201, tags=["nominations"])
async def withdraw_nomination(
    nomination_id: str, body: WithdrawNomination, rt: RuntimeDep, who: Writer, officer: OfficerHeader = None
) -> dict[str, Any]:
    """Withdraw a nomination (died, moved, declined, other): allocation releases its seat. Who
    withdrew (the key's holder, and X-Lindung-Officer) is recorded in the event."""
    await _row(rt, nomination_id, who, change=True)
    try:
        state = await withdraw(
            rt.engine,
            rt.store,
            nomination_id,
            body.reason,
            body.note,
            withdrawn_by=actor(who, officer, "http"),
        )
    except ChangeRefused as exc:
        raise _refuse(exc.status, exc.answer) from exc
    rt.relay.wake()
    return {"nomination_id": nomination_id, "worker_id": state.worker_id, "status": state.status}


class ForgetPerson(BaseModel):
    """Whom to forget (the NIK goes in the body, never in a URL) and why."""

    model_config = ConfigDict(extra="forbid")

    nik: str = Field(min_length=16, max_length=32)
    reason: str = Field(min_length=1, max_length=500, description="Why (no personal data in it).")


@router.post("/privacy/forget", status_code=201, tags=["privacy"])
async def forget_person(body: ForgetPerson, rt: RuntimeDep, who: Admin, officer: OfficerHeader = None) -> Any:
    """Forget a person (UU 27/2022): their data key is destroyed, so every personal field Lindung
    holds of them reads as "[dilupakan]" everywhere; counts and money stay. Province admin only;
    who and why are recorded in PersonForgotten (docs/security.md, "Forgetting a person")."""
    try:
        event = await forget(
            rt.engine,
            rt.store,
            body.nik,
            forgotten_by=actor(who, officer, "http"),
            reason=body.reason,
            pepper=rt.settings.nik_pepper,
        )
    except ForgetRefused as exc:
        raise _refuse(exc.status, exc.answer) from exc
    rt.relay.wake()
    return {"worker_id": event.worker_id, "forgotten_by": event.forgotten_by, "reason": event.reason}


@router.get("/programmes", tags=["programmes"])
async def list_programmes(rt: RuntimeDep, who: Reader) -> list[dict[str, Any]]:
    """Programmes the registry accepts nominations for."""
    async with rt.engine.connect() as conn:
        rows = await conn.execute(select(programmes).order_by(programmes.c.programme_code))
        return [r.definition for r in rows]


@router.post("/reference/{kind}", status_code=201, tags=["reference data"])
async def post_reference(
    kind: str,
    request: Request,
    rt: RuntimeDep,
    who: Admin,
    source: Annotated[str, Query(description="Name of the imported file (history)")] = "",
) -> dict[str, Any]:
    """Replace the P3KE (columns nik, desil) or DTKS (column nik) extract with the CSV in the body.

    Recorded as ReferenceDataImported (a new version; the same file again changes nothing); then
    nominations waiting on reference data are decided again, and the answer says how many.
    """
    try:
        result = await import_reference(
            rt.engine, rt.store, kind, await request.body(), rt.settings.nik_pepper, source
        )
    except ReferenceFileError as exc:
        raise _refuse(422, answer(AnswerCode.REFERENCE_INVALID, error=str(exc))) from exc
    if result.changed:
        result.revalidation = await revalidate(rt.engine, rt.store, trigger=result.version, **_rules(rt))
    rt.relay.wake()
    return {**result.__dict__, "revalidation": result.revalidation.__dict__}


@router.get("/reference", tags=["reference data"])
async def current_reference(rt: RuntimeDep, who: Reader) -> list[dict[str, Any]]:
    """The current version of each reference extract."""
    async with rt.engine.connect() as conn:
        rows = await conn.execute(select(reference_versions).order_by(reference_versions.c.kind))
        return [{**r._mapping, "imported_at": r.imported_at.isoformat()} for r in rows]


@router.get("/reference/{kind}/history", tags=["reference data"])
async def reference_versions_history(kind: str, rt: RuntimeDep, who: Reader) -> list[dict[str, Any]]:
    """Every version of one extract ever imported, oldest first (ReferenceDataImported events)."""
    if kind not in KINDS:
        raise _refuse(404, answer(AnswerCode.REFERENCE_INVALID, error=f"jenis '{kind}' tidak dikenal"))
    return await reference_history(rt.engine, rt.store, kind)


@router.get("/reasons", tags=["reference data"])
async def reasons(who: Anyone) -> dict[str, list[dict[str, str]]]:
    """Every code the registry answers with, and its Indonesian message template."""
    return {
        "rejections": [{"code": c.value, "message": m} for c, m in reason_table()],
        "answers": [{"code": c.value, "message": m} for c, m in answer_table()],
    }
