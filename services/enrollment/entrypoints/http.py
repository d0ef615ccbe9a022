"""Enrollment's HTTP API: registrations, the month's premium bill, coverage on a day.

Officers read Indonesian messages; systems read the `code` beside them. A NIK is shown masked,
except in the coverage answer to the caller who passed it.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import func, select

from libs.auth import ADMINS, READERS, Principal, caller, listing_regency
from libs.identity import worker_id_for
from libs.runtime.service import Runtime, runtime_of
from services.enrollment.adapters import answer_outcomes
from services.enrollment.adapters.tables import registrations
from services.enrollment.application import premiums
from services.enrollment.application.clock import handler_of, run_lapses
from services.enrollment.application.coverage import answer_for, coverage_of, ledgers_of
from services.enrollment.domain.billing import BillOverLimitError
from services.enrollment.domain.coverage import CoverageLedger, CoveragePolicy
from services.enrollment.domain.months import YearMonth
from services.enrollment.domain.scope import visible_registrations

router = APIRouter()
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
# Billing and lapses are the province admin's; officers (their own regency) and auditors read.
# BPJS answers on its Kafka topic, not here.
Reader = Annotated[Principal, Depends(caller(*READERS))]
Admin = Annotated[Principal, Depends(caller(*ADMINS))]
_NIK = re.compile(r"^\d{16}$")


def _standing(ledger: CoverageLedger | None, today: date, policy: CoveragePolicy) -> str | None:
    """Where an enrolled worker stands today (awaiting_premium, covered, in_arrears, lapsed,
    membership_ended, ended); None before BPJS enrolled them."""
    found = ledger.standing(today, policy) if ledger is not None else None
    return None if found is None else found.value


def _public(r: Any, standing: str | None = None) -> dict[str, Any]:
    return {
        "worker_id": r.worker_id,
        "programme_code": r.programme_code,
        "status": r.status,
        "kpj": r.kpj,
        "nik": r.nik_masked,
        "funder": r.funder,
        "regency_code": r.regency_code,
        "sector": r.sector,
        "coverage_start": r.coverage_start.isoformat(),
        "coverage_end": r.coverage_end.isoformat(),
        "enrolled_on": r.enrolled_on.isoformat() if r.enrolled_on else None,
        "attempts": r.attempts,
        "retry_at": r.retry_at.isoformat() if r.retry_at else None,
        "reason_code": r.reason_code,
        "reason": r.reason,
        "continuing": r.continuing,
        "ended_on": r.ended_on.isoformat() if r.ended_on else None,
        "end_reason": r.end_reason,
        "last_month_billable": r.last_month_billable,
        "standing": standing,
    }


@router.get("/enrollments", tags=["enrollments"])
async def list_enrollments(
    rt: RuntimeDep,
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
    handler = handler_of(rt)
    today = handler.config.local_date(handler.now())
    query = select(registrations)
    if programme:
        query = query.where(registrations.c.programme_code == programme)
    if status:
        query = query.where(registrations.c.status == status)
    if regency:
        query = query.where(registrations.c.regency_code == regency)
    async with rt.engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
        rows = (
            await conn.execute(
                query.order_by(registrations.c.requested_at, registrations.c.worker_id)
                .offset((page - 1) * per_page)
                .limit(per_page)
            )
        ).all()
        ledgers = await ledgers_of(conn, [r.worker_id for r in rows])
    policy = handler.config.coverage
    items = [_public(r, _standing(ledgers.get((r.worker_id, r.programme_code)), today, policy)) for r in rows]
    return {"total": total, "page": page, "per_page": per_page, "items": items}


@router.get("/enrollments/stats", tags=["enrollments"])
async def enrollment_stats(rt: RuntimeDep, who: Reader, programme: str | None = None) -> dict[str, Any]:
    """Registrations per status (an officer's regency only), and what BPJS's answers did, of the
    programme (or all): APPLIED, DUPLICATE, STALE, KPJ_CONFLICT, UNKNOWN_ATTEMPT; timeouts and
    retries (a durable read model: it survives restarts)."""
    query = select(registrations.c.status, func.count()).group_by(registrations.c.status)
    if programme:
        query = query.where(registrations.c.programme_code == programme)
    regency = listing_regency(who, None)
    if regency:
        query = query.where(registrations.c.regency_code == regency)
    async with rt.engine.connect() as conn:
        by_status = {status: n for status, n in (await conn.execute(query)).all()}
        answers = await answer_outcomes.counts(conn, programme)
    return {"by_status": by_status, "answers": answers}


@router.get("/enrollments/{worker_id}", tags=["enrollments"])
async def get_enrollment(worker_id: str, rt: RuntimeDep, who: Reader) -> list[dict[str, Any]]:
    """Every registration of one worker (one per programme; an officer's regency's only), with
    where they stand today (`standing`: awaiting_premium, covered, in_arrears, lapsed,
    membership_ended, ended)."""
    handler = handler_of(rt)
    today = handler.config.local_date(handler.now())
    async with rt.engine.connect() as conn:
        rows = (await conn.execute(select(registrations).where(registrations.c.worker_id == worker_id))).all()
        ledgers = await ledgers_of(conn, [worker_id])
    visible = visible_registrations(rows, who.may_see_regency)
    if not visible:
        # Another regency's worker is not found, like a worker nobody registered: no oracle.
        raise HTTPException(404, {"code": "ENROLLMENT_NOT_FOUND", "message": "Pendaftaran tidak ditemukan."})
    policy = handler.config.coverage
    return [_public(r, _standing(ledgers.get((worker_id, r.programme_code)), today, policy)) for r in visible]


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
async def bill(body: BillRequest, rt: RuntimeDep, who: Admin) -> dict[str, Any]:
    """Bill the month for every enrolled worker of the programme not billed for it yet, per
    funder and regency (workers × JKK + JKM), and ask BPJS to confirm payment. Billing the same
    month again bills only workers enrolled since (or whose line BPJS refused): never twice."""
    month = _month(body.month)
    handler = handler_of(rt)
    today = handler.config.local_date(handler.now())
    try:
        async with rt.engine.begin() as conn:
            created = await premiums.bill_month(
                conn, rt.store, handler.config, body.programme_code, month, today, body.regency_code
            )
    except premiums.ProgrammeUnknown:
        raise HTTPException(
            404,
            {
                "code": "PROGRAMME_UNKNOWN",
                "message": f"Program {body.programme_code} tidak dikenal atau belum ada peserta terdaftar.",
            },
        ) from None
    except BillOverLimitError as exc:
        raise HTTPException(409, {"code": exc.code, "message": exc.message}) from None
    except premiums.MonthOutsideProgramme:
        raise HTTPException(
            422,
            {
                "code": "MONTH_OUTSIDE_PROGRAMME",
                "message": f"Bulan {month} di luar masa kepesertaan program {body.programme_code}.",
            },
        ) from None
    rt.relay.wake()
    async with rt.engine.connect() as conn:
        summary = await premiums.month_summary(conn, body.programme_code, month)
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
        return await premiums.month_summary(conn, programme, _month(month), regency)


@router.post("/coverage/lapses", tags=["coverage"])
async def record_lapses_now(rt: RuntimeDep, who: Admin) -> dict[str, Any]:
    """Record the lapses in force today (the service also does this on its own, periodically)."""
    handler = handler_of(rt)
    recorded = await run_lapses(rt)
    return {"as_of": handler.config.local_date(handler.now()).isoformat(), "recorded": recorded}


# --- coverage on a day ---------------------------------------------------------------------------


async def _coverage(
    rt: Runtime, who: Principal, worker_id: str, on: date, known_at: date | None, programme: str | None
) -> dict[str, Any]:
    handler = handler_of(rt)
    async with rt.engine.connect() as conn:
        ledgers = await coverage_of(conn, worker_id)
        rows = await conn.execute(select(registrations).where(registrations.c.worker_id == worker_id))
        # An officer learns only about registrations of their own regency: a person registered
        # elsewhere gets the very answer of a person never registered (NOT_ENROLLED), no 403.
        regs = {r.programme_code: r for r in visible_registrations(rows, who.may_see_regency)}
    ledgers = [pc for pc in ledgers if pc.programme_code in regs]
    if programme:
        ledgers = [pc for pc in ledgers if pc.programme_code == programme]
    answers = []
    for pc in ledgers:
        answer = answer_for(pc, on, handler.config.coverage, known_at)
        reg = regs.get(pc.programme_code)
        if reg is not None:
            answer |= {"funder": reg.funder, "regency_code": reg.regency_code, "kpj": reg.kpj}
        answers.append(answer)
    chosen = next((a for a in answers if a["covered"]), answers[0] if answers else None)
    head: dict[str, Any] = {
        "worker_id": worker_id,
        "on": on.isoformat(),
        "known_at": known_at and known_at.isoformat(),
    }
    if chosen is None:
        return head | {
            "covered": False,
            "reason": "NOT_ENROLLED",
            "end_reason": None,
            "ended_on": None,
            "programme_code": None,
            "funder": None,
            "period": None,
            "proof": [],
            "programmes": [],
        }
    return head | {
        "covered": chosen["covered"],
        "reason": chosen["reason"],
        "end_reason": chosen["end_reason"],
        "ended_on": chosen["ended_on"],
        "programme_code": chosen["programme_code"],
        "funder": chosen.get("funder"),
        "regency_code": chosen.get("regency_code"),
        "kpj": chosen.get("kpj"),
        "period": chosen["period"],
        "proof": chosen["proof"],
        "programmes": answers,
    }


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
async def coverage_by_nik(question: CoverageQuestion, rt: RuntimeDep, who: Reader) -> dict[str, Any]:
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
    worker_id = worker_id_for(nik, handler_of(rt).config.pepper)
    answer = await _coverage(rt, who, worker_id, question.on, question.known_at, question.programme)
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
    who: Reader,
    known_at: KnownAtQuery = None,
    programme: str | None = None,
) -> dict[str, Any]:
    """The same answer by worker id (for systems that hold no NIK)."""
    async with rt.engine.connect() as conn:
        rows = await conn.execute(
            select(registrations.c.nik_masked, registrations.c.regency_code).where(
                registrations.c.worker_id == worker_id
            )
        )
        seen = visible_registrations(rows, who.may_see_regency)
    masked = seen[0].nik_masked if seen else None
    return {"nik": masked} | await _coverage(rt, who, worker_id, on, known_at, programme)
