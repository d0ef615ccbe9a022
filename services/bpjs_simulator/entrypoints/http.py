"""The simulator's HTTP API: what the pretend insurer holds, and its control panel (tests, demos),
mapped to the read side (application/views.py) and the panel's commands (application/control.py).

The control panel (`control_router`: outages, known participants, claims pushed as BPJS) exists
only in development mode (bootstrap.py) and answers only the `bpjs` role: a province admin must
not be able to make BPJS say that it paid a claim.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from libs.auth import Principal, Role, caller, forbidden
from libs.eventstore.kit import StreamKit
from libs.runtime.service import Runtime, application_of, runtime_of
from services.bpjs_simulator.application import views
from services.bpjs_simulator.application.control import (
    ClaimToPush,
    KpjUnknown,
    ParticipantConflict,
    Simulator,
)

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


def _simulator(request: Request) -> Simulator:
    return application_of(request, Simulator)


SimulatorDep = Annotated[Simulator, Depends(_simulator)]


def _kit(rt: Runtime) -> StreamKit:
    assert rt.kit is not None, "a running service has a kit"
    return rt.kit


@router.get("/participants/count", tags=["simulator"])
async def participant_count(rt: RuntimeDep, who: InsurerReader) -> dict[str, Any]:
    """How many participants the simulator registered, and how many distinct KPJs it issued."""
    return await views.participant_count(rt.engine)


@router.get("/participants/{kpj}", tags=["simulator"])
async def participant(kpj: str, rt: RuntimeDep, who: InsurerReader) -> dict[str, Any]:
    """One participant (NIK masked) and the months paid for them."""
    found = await views.participant(rt.engine, kpj)
    if found is None:
        raise HTTPException(404, {"code": "KPJ_UNKNOWN", "message": "KPJ tidak terdaftar."})
    return found


@router.get("/payments/{payment_request_id:path}", tags=["simulator"])
async def payment(payment_request_id: str, rt: RuntimeDep, who: InsurerReader) -> dict[str, Any]:
    """The simulator's final decision on one premium payment request."""
    found = await views.payment(rt.engine, payment_request_id)
    if found is None:
        raise HTTPException(
            404, {"code": "PAYMENT_UNKNOWN", "message": "Permintaan pembayaran tidak dikenal."}
        )
    return found


@control_router.get("/control", tags=["control"])
async def control_state(rt: RuntimeDep, sim: SimulatorDep, who: InsurerReader) -> dict[str, Any]:
    """Outage state, messages held and sent, and the configured behaviour."""
    state = sim.outage
    counts = await views.answer_counts(rt.engine)
    return {
        "outage": state.active(),
        "outage_until": state.until.isoformat() if state.until else None,
        **counts,
        "behaviour": sim.handler.behaviour.__dict__,
    }


@control_router.post("/control/outage", tags=["control"])
async def outage(
    rt: RuntimeDep,
    sim: SimulatorDep,
    who: Insurer,
    seconds: Annotated[float, Query(ge=0, le=86_400)] = 10.0,
) -> dict[str, Any]:
    """Go down for `seconds` (0: come back now): neither consume requests nor send answers.
    Requests wait in Kafka; answers due meanwhile are sent when the outage ends."""
    until = await sim.go_down(_kit(rt), seconds)
    return {"outage": sim.outage.active(), "outage_until": until.isoformat() if until else None}


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
async def preload_participants(
    body: KnownParticipants, rt: RuntimeDep, sim: SimulatorDep, who: Insurer
) -> dict[str, Any]:
    """Load participants BPJS already holds (continuing participants registered before Lindung):
    a registration for one of these NIKs is then answered with their KPJ, `continued: true`.
    Loading the same NIK with the same KPJ again changes nothing; a NIK or KPJ held otherwise is
    refused as a whole (409)."""
    listed = [(p.nik, p.kpj, p.registered_on) for p in body.participants]
    try:
        loaded, held = await sim.preload(_kit(rt), listed)
    except ParticipantConflict as conflict:
        raise HTTPException(409, {"code": "PARTICIPANT_CONFLICT", "message": str(conflict)}) from None
    return {"loaded": loaded, "already_held": held}


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
async def push_claim(body: ClaimPush, rt: RuntimeDep, sim: SimulatorDep, who: Insurer) -> dict[str, Any]:
    """Push a ClaimPaid for a participant (sent at once, or when an outage ends)."""
    try:
        claim_id = await sim.push_claim(_kit(rt), ClaimToPush(**body.model_dump()))
    except KpjUnknown:
        raise HTTPException(
            404, {"code": "KPJ_UNKNOWN", "message": "KPJ tidak terdaftar; sertakan NIK peserta."}
        ) from None
    return {"claim_id": claim_id, "kpj": body.kpj, "outage": sim.outage.active()}
