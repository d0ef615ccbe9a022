"""The simulator's HTTP API: what the pretend insurer holds, and its control panel (tests, demos).

The control panel (`control_router`: outages, known participants, claims pushed as BPJS) exists
only in development mode (app.py) and answers only the `bpjs` role: a province admin must not be
able to make BPJS say that it paid a claim.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Text, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.exc import IntegrityError

from libs.auth import Principal, Role, caller, forbidden
from libs.events.contracts.bpjs import ClaimPaid
from libs.pii import mask_nik
from libs.runtime.service import Runtime, runtime_of
from services.bpjs_simulator.adapters.tables import held_messages, paid_months, participants, payers, payments
from services.bpjs_simulator.application.handlers import BPJS_TIMEZONE, InsurerHandler
from services.bpjs_simulator.application.release import outage_of, start_outage

router = APIRouter()
control_router = APIRouter()
RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
# The simulator plays BPJS: auditors and the province admin read what it holds; only BPJS pushes
# claims and takes it down. It has no regency to scope, so officers have no business.
InsurerReader = Annotated[Principal, Depends(caller(Role.PROVINCE_ADMIN, Role.BPJS, Role.AUDITOR))]


async def _bpjs_itself(
    who: Annotated[Principal, Depends(caller(Role.PROVINCE_ADMIN, Role.BPJS))],
) -> Principal:
    # Without keys (development, nobody proved anything) every caller is the development province
    # admin: the demo and the tests drive the panel so. With keys, only the bpjs role does.
    if who.role is not Role.BPJS and who.authenticated:
        raise forbidden("Panel kendali simulator hanya untuk peran bpjs.")
    return who


Insurer = Annotated[Principal, Depends(_bpjs_itself)]


def _handler(rt: Runtime) -> InsurerHandler:
    handler = rt.definition.handler
    assert isinstance(handler, InsurerHandler)
    return handler


@router.get("/participants/count", tags=["simulator"])
async def participant_count(rt: RuntimeDep, who: InsurerReader) -> dict[str, Any]:
    """How many participants the simulator registered, and how many distinct KPJs it issued."""
    async with rt.engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(participants))).scalar_one()
        kpjs = (await conn.execute(select(func.count(func.distinct(participants.c.kpj))))).scalar_one()
    return {"participants": total, "distinct_kpj": kpjs}


@router.get("/participants/{kpj}", tags=["simulator"])
async def participant(kpj: str, rt: RuntimeDep, who: InsurerReader) -> dict[str, Any]:
    """One participant (NIK masked) and the months paid for them."""
    async with rt.engine.connect() as conn:
        row = (await conn.execute(select(participants).where(participants.c.kpj == kpj))).first()
        if row is None:
            raise HTTPException(404, {"code": "KPJ_UNKNOWN", "message": "KPJ tidak terdaftar."})
        months = (
            await conn.execute(
                select(paid_months.c.month, paid_months.c.payment_request_id)
                .where(paid_months.c.kpj == kpj)
                .order_by(paid_months.c.month)
            )
        ).all()
        paying = (
            await conn.execute(select(payers).where(payers.c.kpj == kpj).order_by(payers.c.registered_at))
        ).all()
    return {
        "kpj": row.kpj,
        "nik": mask_nik(row.nik),
        "worker_id": row.worker_id,
        "programme_code": row.programme_code,
        "registered_at": row.registered_at.isoformat(),
        "paid_months": [{"month": m.month, "payment_request_id": m.payment_request_id} for m in months],
        "payers": [
            {
                "programme_code": p.programme_code,
                "request_id": p.request_id,
                "first_day": p.first_day.isoformat(),
                "coverage_end": p.coverage_end.isoformat(),
                "continued": p.continued,
                "ended_on": p.ended_on.isoformat() if p.ended_on else None,
                "end_reason": p.end_reason,
            }
            for p in paying
        ],
    }


@router.get("/payments/{payment_request_id:path}", tags=["simulator"])
async def payment(payment_request_id: str, rt: RuntimeDep, who: InsurerReader) -> dict[str, Any]:
    """The simulator's final decision on one premium payment request."""
    async with rt.engine.connect() as conn:
        row = (
            await conn.execute(select(payments).where(payments.c.payment_request_id == payment_request_id))
        ).first()
    if row is None:
        raise HTTPException(
            404, {"code": "PAYMENT_UNKNOWN", "message": "Permintaan pembayaran tidak dikenal."}
        )
    return {
        "payment_request_id": row.payment_request_id,
        "outcome": row.outcome,
        "payment_ref": row.payment_ref,
        "reason_code": row.reason_code,
        "month": row.month,
        "participants": row.participants,
        "total": row.total,
        "paid_at": row.paid_at.isoformat() if row.paid_at else None,
    }


@control_router.get("/control", tags=["control"])
async def control_state(rt: RuntimeDep, who: InsurerReader) -> dict[str, Any]:
    """Outage state, messages held and sent, and the configured behaviour."""
    state = outage_of(rt)
    h = held_messages
    async with rt.engine.connect() as conn:
        counts = (
            await conn.execute(
                select(
                    func.count().filter(h.c.released_at.is_(None)).label("held"),
                    func.count().filter(h.c.released_at.is_not(None)).label("sent"),
                    func.count().filter(h.c.copy > 1).label("repeated"),
                    func.count().filter(h.c.late > 0).label("late"),
                )
            )
        ).one()
    behaviour = _handler(rt).behaviour
    return {
        "outage": state.active(),
        "outage_until": state.until.isoformat() if state.until else None,
        "held": counts.held,
        "sent": counts.sent,
        "repeated": counts.repeated,
        "late": counts.late,
        "behaviour": behaviour.__dict__,
    }


@control_router.post("/control/outage", tags=["control"])
async def outage(
    rt: RuntimeDep, who: Insurer, seconds: Annotated[float, Query(ge=0, le=86_400)] = 10.0
) -> dict[str, Any]:
    """Go down for `seconds` (0: come back now): neither consume requests nor send answers.
    Requests wait in Kafka; answers due meanwhile are sent when the outage ends."""
    state = outage_of(rt)
    state.until = await start_outage(rt.engine, seconds)
    state.changed.set()
    state.release.set()
    return {"outage": state.active(), "outage_until": state.until.isoformat() if state.until else None}


class KnownParticipant(BaseModel):
    """A participant BPJS registered before Lindung (an earlier year, another payer)."""

    model_config = ConfigDict(extra="forbid")

    nik: str = Field(pattern=r"^\d{16}$")
    kpj: str = Field(min_length=1, max_length=40)
    registered_on: date


class KnownParticipants(BaseModel):
    model_config = ConfigDict(extra="forbid")

    participants: list[KnownParticipant] = Field(min_length=1, max_length=50_000)


@control_router.post("/control/participants", tags=["control"])
async def preload_participants(body: KnownParticipants, rt: RuntimeDep, who: Insurer) -> dict[str, Any]:
    """Load participants BPJS already holds (continuing participants registered before Lindung):
    a registration for one of these NIKs is then answered with their KPJ, `continued: true`.
    Loading the same NIK with the same KPJ again changes nothing; a NIK or KPJ held otherwise is
    refused as a whole (409)."""
    listed = body.participants
    clash = _clash_within(listed)
    async with rt.engine.begin() as conn:
        # Two array parameters, not one parameter per value: a list may hold tens of thousands.
        niks = bindparam("niks", [p.nik for p in listed], type_=ARRAY(Text))
        kpjs = bindparam("kpjs", [p.kpj for p in listed], type_=ARRAY(Text))
        held = {
            (r.nik, r.kpj)
            for r in await conn.execute(
                select(participants.c.nik, participants.c.kpj).where(
                    (participants.c.nik == any_(niks)) | (participants.c.kpj == any_(kpjs))
                )
            )
        }
        clash = clash or _clash_with(listed, held)
        if clash:
            raise HTTPException(409, {"code": "PARTICIPANT_CONFLICT", "message": clash})
        new = [p for p in listed if (p.nik, p.kpj) not in held]
        if new:
            # A registration or another load taking one of these NIKs or KPJs meanwhile: the
            # unique constraints refuse the whole list, as a clash found above would.
            try:
                async with conn.begin_nested():
                    await conn.execute(
                        insert(participants),
                        [
                            {
                                "nik": p.nik,
                                "kpj": p.kpj,
                                "registered_at": datetime.combine(
                                    p.registered_on, time(), tzinfo=BPJS_TIMEZONE
                                ),
                            }
                            for p in new
                        ],
                    )
            except IntegrityError:
                raise HTTPException(
                    409,
                    {
                        "code": "PARTICIPANT_CONFLICT",
                        "message": "NIK atau KPJ dalam daftar baru saja didaftarkan; kirim lagi.",
                    },
                ) from None
    return {"loaded": len(new), "already_held": len(listed) - len(new)}


def _clash_within(listed: list[KnownParticipant]) -> str | None:
    for field, values in (("NIK", [p.nik for p in listed]), ("KPJ", [p.kpj for p in listed])):
        if len(set(values)) != len(values):
            return f"{field} yang sama muncul lebih dari sekali dalam daftar."
    return None


def _clash_with(listed: list[KnownParticipant], held: set[tuple[str, str]]) -> str | None:
    """A listed participant whose NIK holds another KPJ, or whose KPJ another NIK holds."""
    held_niks = {nik for nik, _ in held}
    held_kpjs = {kpj for _, kpj in held}
    for p in listed:
        if (p.nik, p.kpj) in held:
            continue
        if p.nik in held_niks:
            return f"NIK {mask_nik(p.nik)} sudah terdaftar dengan KPJ lain."
        if p.kpj in held_kpjs:
            return f"KPJ {p.kpj} sudah terdaftar atas NIK lain."
    return None


class ClaimPush(BaseModel):
    """A claim BPJS paid, to push to Lindung on `lindung.bpjs.claims.v1`."""

    model_config = ConfigDict(extra="forbid")

    kpj: str = Field(min_length=1, max_length=40)
    programme: Literal["JKK", "JKM"]
    benefit_kind: str = Field(min_length=1, max_length=40)
    incident_date: date
    amount: int = Field(ge=0)
    paid_date: date | None = None
    claim_id: str | None = Field(default=None, min_length=1, max_length=60)
    nik: str | None = Field(
        default=None, pattern=r"^\d{16}$", description="Needed only for a KPJ the simulator did not issue."
    )


@control_router.post("/control/claims", tags=["control"], status_code=202)
async def push_claim(body: ClaimPush, rt: RuntimeDep, who: Insurer) -> dict[str, Any]:
    """Push a ClaimPaid for a participant (sent at once, or when an outage ends)."""
    async with rt.engine.begin() as conn:
        nik = body.nik
        if nik is None:
            row = (
                await conn.execute(select(participants.c.nik).where(participants.c.kpj == body.kpj))
            ).first()
            if row is None:
                raise HTTPException(
                    404, {"code": "KPJ_UNKNOWN", "message": "KPJ tidak terdaftar; sertakan NIK peserta."}
                )
            nik = str(row.nik)
        now = datetime.now(UTC)
        claim_id = body.claim_id or f"CLM-{now.strftime('%Y%m%d%H%M%S%f')}"
        event = ClaimPaid(
            claim_id=claim_id,
            kpj=body.kpj,
            nik=nik,
            programme=body.programme,
            benefit_kind=body.benefit_kind,
            incident_date=body.incident_date,
            paid_date=body.paid_date or _handler(rt).now().date(),
            amount=body.amount,
        )
        await conn.execute(
            insert(held_messages).values(
                stream=f"bpjs-claim-{claim_id}",
                event_type=event.event_type,
                payload=event.model_dump(mode="json"),
                correlation_id=uuid.uuid4(),
                due_at=now,
            )
        )
    state = outage_of(rt)
    state.release.set()
    return {"claim_id": claim_id, "kpj": body.kpj, "outage": state.active()}
