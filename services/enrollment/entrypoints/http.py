"""Enrollment's HTTP API: registrations, the month's premium bill, coverage on a day.

Officers read Indonesian messages; systems read the `code` beside them. A NIK is shown masked,
except in the coverage answer to the caller who passed it.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from libs.auth import ADMINS, READERS, Principal, caller, listing_regency
from libs.identity import worker_id_for
from libs.runtime.service import Runtime, application_of, runtime_of
from services.enrollment.application import views
from services.enrollment.application.billing import MonthOutsideProgramme, ProgrammeUnknown, bill_month
from services.enrollment.application.context import EnrollmentApp
from services.enrollment.application.lapses import run_lapses
from services.enrollment.domain.billing import BillOverLimitError
from services.enrollment.domain.months import YearMonth

router = APIRouter()
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


def _application(request: Request) -> EnrollmentApp:
    return application_of(request, EnrollmentApp)


App = Annotated[EnrollmentApp, Depends(_application)]
# Billing and lapses are the province admin's; officers (their own regency) and auditors read.
# BPJS answers on its Kafka topic, not here.
Reader = Annotated[Principal, Depends(caller(*READERS))]
Admin = Annotated[Principal, Depends(caller(*ADMINS))]
_NIK = re.compile(r"^\d{16}$")


@router.get("/enrollments", tags=["enrollments"])
async def list_enrollments(
    rt: RuntimeDep,
    app: App,
    who: Reader,
    programme: str | None = None,
    status: str | None = None,
    regency: str | None = None,
    page: Annotated[int, Query(ge=1)] = 1,
    per_page: Annotated[int, Query(ge=1, le=500)] = 50,
) -> dict[str, Any]:
    """Registrations at BPJS, filtered by programme, status and regency (NIKs masked), each with
    where the worker stands today (`standing`). A regency officer sees their own regency only."""
    regency = listing_regency(who, regency)
    async with rt.engine.connect() as conn:
        return await views.enrollments(
            conn,
            app.today(),
            app.config.coverage,
            programme=programme,
            status=status,
            regency=regency,
            page=page,
            per_page=per_page,
        )


@router.get("/enrollments/stats", tags=["enrollments"])
async def enrollment_stats(rt: RuntimeDep, who: Reader, programme: str | None = None) -> dict[str, Any]:
    """Registrations per status (an officer's regency only), and what BPJS's answers did, of the
    programme (or all): APPLIED, DUPLICATE, STALE, KPJ_CONFLICT, UNKNOWN_ATTEMPT; timeouts and
    retries (a durable read model: it survives restarts)."""
    async with rt.engine.connect() as conn:
        return await views.stats(conn, programme, listing_regency(who, None))


@router.get("/enrollments/{worker_id}", tags=["enrollments"])
async def get_enrollment(worker_id: str, rt: RuntimeDep, app: App, who: Reader) -> list[dict[str, Any]]:
    """Every registration of one worker (one per programme; an officer's regency's only), with
    where they stand today (`standing`: awaiting_premium, covered, in_arrears, lapsed,
    membership_ended, ended)."""
    async with rt.engine.connect() as conn:
        found = await views.worker_enrollments(
            conn, worker_id, app.today(), app.config.coverage, who.may_see_regency
        )
    if not found:
        # Another regency's worker is not found, like a worker nobody registered: no oracle.
        raise HTTPException(404, {"code": "ENROLLMENT_NOT_FOUND", "message": "Pendaftaran tidak ditemukan."})
    return found


# --- premiums ------------------------------------------------------------------------------------


class BillRequest(BaseModel):
    """Bill one month of a programme."""

    model_config = ConfigDict(extra="forbid")

    programme_code: str = Field(min_length=1, max_length=100)
    month: str = Field(pattern=r"^\d{4}-\d{2}$", examples=["2026-03"])
    regency_code: str | None = Field(
        default=None, pattern=r"^12\.\d{2}$", description="Bill this regency's workers only."
    )


def _month(text: str) -> YearMonth:
    try:
        return YearMonth.parse(text)
    except ValueError:
        raise HTTPException(
            422,
            {"code": "MONTH_INVALID", "message": f"Bulan '{text}' tidak sah; tulis TTTT-BB, mis. 2026-03."},
        ) from None


@router.post("/premiums/bills", tags=["premiums"], status_code=201)
async def bill(body: BillRequest, rt: RuntimeDep, app: App, who: Admin) -> dict[str, Any]:
    """Bill the month for every enrolled worker of the programme not billed for it yet, per
    funder and regency (workers × JKK + JKM), and ask BPJS to confirm payment. Billing the same
    month again bills only workers enrolled since (or whose line BPJS refused): never twice."""
    month = _month(body.month)
    assert rt.kit is not None
    try:
        created = await rt.kit.transact(
            lambda tx: bill_month(app, tx, body.programme_code, month, body.regency_code)
        )
    except ProgrammeUnknown:
        raise HTTPException(
            404,
            {
                "code": "PROGRAMME_UNKNOWN",
                "message": f"Program {body.programme_code} tidak dikenal atau belum ada peserta terdaftar.",
            },
        ) from None
    except BillOverLimitError as exc:
        raise HTTPException(409, {"code": exc.code, "message": exc.message}) from None
    except MonthOutsideProgramme:
        raise HTTPException(
            422,
            {
                "code": "MONTH_OUTSIDE_PROGRAMME",
                "message": f"Bulan {month} di luar masa kepesertaan program {body.programme_code}.",
            },
        ) from None
    async with rt.engine.connect() as conn:
        summary = await views.month_summary(conn, body.programme_code, month)
    return {"created": created, **summary}


@router.get("/premiums/bills", tags=["premiums"])
async def bills_of_month(
    rt: RuntimeDep,
    who: Reader,
    programme: Annotated[str, Query(min_length=1)],
    month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")],
) -> dict[str, Any]:
    """The month's bill per funder and regency: lines, payment status and totals (an officer's
    regency only)."""
    regency = listing_regency(who, None)
    async with rt.engine.connect() as conn:
        return await views.month_summary(conn, programme, _month(month), regency)


@router.post("/coverage/lapses", tags=["coverage"])
async def record_lapses_now(rt: RuntimeDep, app: App, who: Admin) -> dict[str, Any]:
    """Record the lapses in force today (the service also does this on its own, periodically)."""
    assert rt.kit is not None
    recorded = await run_lapses(app, rt.kit)
    return {"as_of": app.today().isoformat(), "recorded": recorded}


# --- coverage on a day ---------------------------------------------------------------------------


async def _coverage(
    rt: Runtime,
    app: EnrollmentApp,
    who: Principal,
    worker_id: str,
    on: date,
    known_at: date | None,
    programme: str | None,
) -> dict[str, Any]:
    async with rt.engine.connect() as conn:
        return await views.coverage(
            conn, worker_id, on, known_at, programme, app.config.coverage, who.may_see_regency
        )


OnQuery = Annotated[date, Query(description="The day asked about (YYYY-MM-DD).")]
KnownAtQuery = Annotated[
    date | None,
    Query(
        description="Answer from the facts known on this day (e.g. the incident day: a month paid "
        "after it does not cover it). Default: everything known now."
    ),
]


class CoverageQuestion(BaseModel):
    """Whose coverage, on which day: the NIK travels in the body, never in a URL (URLs end up in
    access logs, proxies and browser histories)."""

    model_config = ConfigDict(extra="forbid")

    nik: str = Field(max_length=32, description="The person's NIK (16 digits).")
    on: date = Field(description="The day asked about (YYYY-MM-DD).")
    known_at: date | None = Field(
        default=None,
        description="Answer from the facts known on this day (e.g. the incident day: a month paid "
        "after it does not cover it). Default: everything known now.",
    )
    programme: str | None = Field(default=None, max_length=100)


# A read sent as POST (the NIK stays out of URLs): `x-lindung-read` tells tools it changes nothing.
@router.post("/coverage", tags=["coverage"], openapi_extra={"x-lindung-read": True})
async def coverage_by_nik(
    question: CoverageQuestion, rt: RuntimeDep, app: App, who: Reader
) -> dict[str, Any]:
    """Was the person with this NIK covered on `on`? Under which programme and funder, why, the
    unbroken covered period around that day, and the ids of the events that prove it.

    A regency officer asking about a person registered only in another regency gets the answer
    for a person never registered (NOT_ENROLLED), identical in status and body."""
    nik = question.nik
    if not _NIK.match(nik):
        raise HTTPException(
            422,
            {
                "code": "NIK_FORMAT",
                "message": f"NIK harus terdiri dari 16 angka (diterima {len(nik)} karakter).",
            },
        )
    worker_id = worker_id_for(nik, app.config.pepper)
    answer = await _coverage(rt, app, who, worker_id, question.on, question.known_at, question.programme)
    return {"nik": nik} | answer


@router.get("/coverage/{nik}", tags=["coverage"], include_in_schema=False, status_code=405)
async def coverage_by_nik_in_url(nik: str) -> None:
    """Gone: a NIK does not travel in a URL. Answers 405 and points to POST /coverage."""
    raise HTTPException(
        405,
        {
            "code": "NIK_NOT_IN_URL",
            "message": "NIK tidak dikirim di alamat URL; kirim POST /coverage dengan "
            '{"nik": ..., "on": ...}.',
        },
        headers={"Allow": "POST"},
    )


@router.get("/workers/{worker_id}/coverage", tags=["coverage"])
async def coverage_by_worker(
    worker_id: str,
    on: OnQuery,
    rt: RuntimeDep,
    app: App,
    who: Reader,
    known_at: KnownAtQuery = None,
    programme: str | None = None,
) -> dict[str, Any]:
    """The same answer by worker id (for systems that hold no NIK)."""
    async with rt.engine.connect() as conn:
        masked = await views.masked_nik(conn, worker_id, who.may_see_regency)
    return {"nik": masked} | await _coverage(rt, app, who, worker_id, on, known_at, programme)
