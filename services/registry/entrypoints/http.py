"""The registry's HTTP API: nominations in (one, or a list upload), corrections, withdrawals,
reference data, and the read side (NIKs always masked)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Header, Query, Request, UploadFile
from fastapi.responses import StreamingResponse

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
from libs.eventstore.kit import StreamKit
from libs.regions import region_by_code
from libs.runtime.service import Runtime, application_of, runtime_of
from services.registry.adapters.upload import UploadError, read_upload
from services.registry.application import views
from services.registry.application.changes import ChangeRefused, Correction
from services.registry.application.commands import NominateWorker
from services.registry.application.nominate import ProgrammeRefused
from services.registry.application.reference import KINDS, ReferenceFileError
from services.registry.application.service import Registry
from services.registry.application.upload import UploadSummary, check_programme, process_upload
from services.registry.domain.answers import AnswerCode, answer, answer_table
from services.registry.domain.reasons import ReasonCode, reason_table, reject
from services.registry.domain.worker import CORRECTABLE
from services.registry.entrypoints.schemas import (
    CorrectNomination,
    ForgetPerson,
    NominationAnswer,
    WithdrawNomination,
    refuse,
)

router = APIRouter()
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


def registry_of(request: Request) -> Registry:
    """The registry's application layer (a FastAPI dependency)."""
    return application_of(request, Registry)


RegistryDep = Annotated[Registry, Depends(registry_of)]
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


def kit_of(rt: Runtime) -> StreamKit:
    """The runtime's stream kit (every running service has one)."""
    assert rt.kit is not None
    return rt.kit


@router.post("/nominations", status_code=201, response_model=NominationAnswer, tags=["nominations"])
async def post_nomination(
    cmd: NominateWorker, rt: RuntimeDep, registry: RegistryDep, who: Writer, officer: OfficerHeader = None
) -> Any:
    """Nominate one worker. Answers with the validation outcome (and every reason for a rejection).

    A regency officer nominates for their own regency only (403 otherwise)."""
    ensure_regency_writable(who, _regency_of(cmd.regency_code))
    try:
        result = await registry.nominate(
            kit_of(rt), cmd, channel="http", submitted_by=actor(who, officer, "http")
        )
    except ProgrammeRefused as exc:
        raise refuse(exc.status, exc.answer) from exc
    if result.status == "invalid":
        reasons = [r.model_dump() for r in result.reasons]
        raise refuse(422, answer(AnswerCode.NOMINATION_INVALID), reasons=reasons)
    return NominationAnswer(**result.__dict__)


@router.post("/nominations/upload", tags=["nominations"])
async def upload_nominations(
    request: Request,
    rt: RuntimeDep,
    registry: RegistryDep,
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
        raise refuse(422, reject(ReasonCode.REGENCY_UNKNOWN, regency_code=regency))
    regency_code = region.kemendagri_code
    try:
        await check_programme(kit_of(rt), registry.nominations, programme)
    except ProgrammeRefused as exc:
        raise refuse(exc.status, exc.answer) from exc
    name = file.filename or "upload"
    policy = registry.upload
    try:
        # The spooled file itself, never its bytes whole: a CSV is decoded as a stream, an XLSX's
        # zip directory checked before openpyxl opens it (the body limit already capped its size).
        table = await asyncio.to_thread(
            read_upload, file.file, name, max_rows=policy.max_rows, zip_limits=policy.zip_limits
        )
    except UploadError as exc:
        raise refuse(413 if exc.answer.code is AnswerCode.UPLOAD_TOO_LARGE else 422, exc.answer) from exc
    summary = UploadSummary()
    batches = process_upload(
        kit_of(rt),
        registry.nominations,
        table,
        programme_code=programme,
        regency_code=regency_code,
        source_name=name,
        submitted_by=actor(who, officer, f"upload:{regency_code}"),
        batch=policy.batch,
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
    where = views.NominationFilter(
        listing_regency(who, regency), status, reason, programme, channel, source_ref
    )
    async with rt.engine.connect() as conn:
        return await views.list_nominations(conn, who, where, page=page, per_page=per_page)


async def _row(rt: Runtime, nomination_id: str, who: Principal, *, change: bool = False) -> Any:
    """The nomination's row, if `who` may read it (or change it, with `change`); else 404 / 403."""
    async with rt.engine.connect() as conn:
        row = await views.nomination_row(conn, nomination_id)
    if row is None:
        raise refuse(404, answer(AnswerCode.NOMINATION_NOT_FOUND))
    if change:
        ensure_regency_writable(who, row.regency_code)
    else:
        ensure_regency_visible(who, row.regency_code)
    return row


@router.get("/nominations/{nomination_id}", tags=["nominations"])
async def get_nomination(nomination_id: str, rt: RuntimeDep, who: Reader) -> dict[str, Any]:
    """One nomination (NIK masked)."""
    return views.public(await _row(rt, nomination_id, who), who)


@router.get("/nominations/{nomination_id}/history", tags=["nominations"])
async def nomination_history(nomination_id: str, rt: RuntimeDep, who: Reader) -> list[dict[str, Any]]:
    """Every event of one nomination, oldest first (NIKs masked, names left out)."""
    row = await _row(rt, nomination_id, who)
    return await views.nomination_history(kit_of(rt).store, row.worker_id, nomination_id)


@router.post(
    "/nominations/{nomination_id}/corrections",
    status_code=201,
    response_model=NominationAnswer,
    tags=["nominations"],
)
async def correct_nomination(
    nomination_id: str,
    body: CorrectNomination,
    rt: RuntimeDep,
    registry: RegistryDep,
    who: Writer,
    officer: OfficerHeader = None,
) -> Any:
    """Correct a rejected nomination; it is validated again and its history kept (NominationCorrected
    then WorkerValidated/WorkerRejected). 409 when the nomination is not rejected."""
    await _row(rt, nomination_id, who, change=True)
    changes = {name: getattr(body, name) for name in body.model_fields_set if name in CORRECTABLE}
    if not changes:
        raise refuse(422, answer(AnswerCode.CORRECTION_EMPTY))
    correction = Correction(changes, corrected_by=actor(who, officer, "http"), note=body.note)
    try:
        result = await registry.correct(kit_of(rt), nomination_id, correction)
    except (ChangeRefused, ProgrammeRefused) as exc:
        raise refuse(exc.status, exc.answer) from exc
    if result.status == "invalid":
        reasons = [r.model_dump() for r in result.reasons]
        raise refuse(422, answer(AnswerCode.NOMINATION_INVALID), reasons=reasons)
    return NominationAnswer(**result.__dict__)


@router.post("/nominations/{nomination_id}/withdrawal", status_code=201, tags=["nominations"])
async def withdraw_nomination(
    nomination_id: str,
    body: WithdrawNomination,
    rt: RuntimeDep,
    registry: RegistryDep,
    who: Writer,
    officer: OfficerHeader = None,
) -> dict[str, Any]:
    """Withdraw a nomination (died, moved, declined, other): allocation releases its seat. Who
    withdrew (the key's holder, and X-Lindung-Officer) is recorded in the event."""
    await _row(rt, nomination_id, who, change=True)
    try:
        state = await registry.withdraw(
            kit_of(rt), nomination_id, body.reason, body.note, withdrawn_by=actor(who, officer, "http")
        )
    except ChangeRefused as exc:
        raise refuse(exc.status, exc.answer) from exc
    return {"nomination_id": nomination_id, "worker_id": state.worker_id, "status": state.status}


@router.post("/privacy/forget", status_code=201, tags=["privacy"])
async def forget_person(
    body: ForgetPerson, rt: RuntimeDep, registry: RegistryDep, who: Admin, officer: OfficerHeader = None
) -> Any:
    """Forget a person (UU 27/2022): their data key is destroyed, so every personal field Lindung
    holds of them reads as "[dilupakan]" everywhere; counts and money stay. Province admin only;
    who and why are recorded in PersonForgotten (docs/security.md, "Forgetting a person")."""
    try:
        event = await registry.forgetting.forget(
            kit_of(rt), body.nik, forgotten_by=actor(who, officer, "http"), reason=body.reason
        )
    except ChangeRefused as exc:
        raise refuse(exc.status, exc.answer) from exc
    return {"worker_id": event.worker_id, "forgotten_by": event.forgotten_by, "reason": event.reason}


@router.get("/programmes", tags=["programmes"])
async def list_programmes(rt: RuntimeDep, who: Reader) -> list[dict[str, Any]]:
    """Programmes the registry accepts nominations for."""
    async with rt.engine.connect() as conn:
        return await views.programme_definitions(conn)


@router.post("/reference/{kind}", status_code=201, tags=["reference data"])
async def post_reference(
    kind: str,
    request: Request,
    rt: RuntimeDep,
    registry: RegistryDep,
    who: Admin,
    source: Annotated[str, Query(description="Name of the imported file (history)")] = "",
) -> dict[str, Any]:
    """Replace the P3KE (columns nik, desil) or DTKS (column nik) extract with the CSV in the body.

    Recorded as ReferenceDataImported (a new version; the same file again changes nothing); then
    nominations waiting on reference data are decided again, and the answer says how many.
    """
    try:
        result = await registry.reference.import_extract(kit_of(rt), kind, await request.body(), source)
    except ReferenceFileError as exc:
        raise refuse(422, answer(AnswerCode.REFERENCE_INVALID, error=str(exc))) from exc
    if result.changed:
        result.revalidation = await registry.reference.revalidate(kit_of(rt), trigger=result.version)
    return {**result.__dict__, "revalidation": result.revalidation.__dict__}


@router.get("/reference", tags=["reference data"])
async def current_reference(rt: RuntimeDep, who: Reader) -> list[dict[str, Any]]:
    """The current version of each reference extract."""
    async with rt.engine.connect() as conn:
        return await views.current_extracts(conn)


@router.get("/reference/{kind}/history", tags=["reference data"])
async def reference_versions_history(kind: str, rt: RuntimeDep, who: Reader) -> list[dict[str, Any]]:
    """Every version of one extract ever imported, oldest first (ReferenceDataImported events)."""
    if kind not in KINDS:
        raise refuse(404, answer(AnswerCode.REFERENCE_INVALID, error=f"jenis '{kind}' tidak dikenal"))
    return await views.extract_history(kit_of(rt).store, kind)


@router.get("/reasons", tags=["reference data"])
async def reasons(who: Anyone) -> dict[str, list[dict[str, str]]]:
    """Every code the registry answers with, and its Indonesian message template."""
    return {
        "rejections": [{"code": c.value, "message": m} for c, m in reason_table()],
        "answers": [{"code": c.value, "message": m} for c, m in answer_table()],
    }
