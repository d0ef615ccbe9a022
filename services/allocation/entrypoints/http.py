"""Allocation's HTTP API: programmes, quota and budget changes and decrees in; quota use, budget,
waitlists, decrees and their annexes out.

Refusals answer `{"detail": {"code": ..., "message": ...}}`: a stable machine code and a message
for officers in Indonesian.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from typing import Annotated, Any

import yaml
from fastapi import APIRouter, Depends, HTTPException, Request, Response
from pydantic import BaseModel, Field, ValidationError

from libs.auth import ADMINS, READERS, Principal, caller, listing_regency
from libs.eventstore.kit import StreamKit
from libs.pii import mask_name
from libs.runtime.service import Runtime, application_of, runtime_of
from services.allocation.adapters.annex import Annex, AnnexLine, annex_csv
from services.allocation.adapters.annex_pdf import annex_pdf
from services.allocation.application import decree_views, views
from services.allocation.application.commands import ChangeResult, Commands, Refused
from services.allocation.application.programmes import (
    ProgrammeAlreadyDefined,
    ProgrammeNotDefined,
    parse_programme,
)
from services.allocation.domain.programme import DecreeKind

RuntimeDep = Annotated[Runtime, Depends(runtime_of)]
# Programmes, quotas, budgets and decrees are the province admin's; officers and auditors read
# (an officer's worker lists are their own regency's); BPJS has nothing to do here.
Reader = Annotated[Principal, Depends(caller(*READERS))]
Admin = Annotated[Principal, Depends(caller(*ADMINS))]


class SeatsChange(BaseModel):
    """New number of seats for one regency × sector."""

    seats: int
    note: str = Field(default="", max_length=500, description="e.g. the letter or SK behind the change")


class SeatsMove(BaseModel):
    """Seats moved from one regency × sector to another."""

    from_regency: str
    from_sector: str
    to_regency: str
    to_sector: str
    seats: int
    note: str = Field(default="", max_length=500)


class BudgetChange(BaseModel):
    """New budget cap in whole rupiah (e.g. after an APBD-P revision)."""

    budget_cap: int
    note: str = Field(default="", max_length=500)


class DecreeRequest(BaseModel):
    """The signed decree: its number, date (YYYY-MM-DD), signer and, optionally, its kind (checked
    against the programme's: SK_GUBERNUR, SK_BUPATI or PERKADA)."""

    number: str = Field(max_length=200)
    date: str = Field(max_length=20)
    signer: str = Field(max_length=200)
    kind: DecreeKind | None = None


def _refused(exc: Refused) -> HTTPException:
    return HTTPException(exc.status, exc.body())


def _unknown(code: str) -> HTTPException:
    error = ProgrammeNotDefined(code)
    return HTTPException(404, {"code": error.code, "message": error.message})


def _decree_version(version: str) -> int | None:
    if version == "latest":
        return None
    if not version.isdigit() or int(version) < 1:
        raise HTTPException(
            422,
            {
                "code": "DECREE_VERSION_INVALID",
                "message": f"Versi SK '{version}' tidak sah (angka atau 'latest').",
            },
        )
    return int(version)


def _named(who: Principal, entry: dict[str, Any]) -> dict[str, Any]:
    """A decree entry as `who` may read it: the name masked outside the regencies they answer for."""
    if who.sees_personal_data(entry.get("regency_code")):
        return entry
    return {**entry, "full_name": mask_name(str(entry["full_name"]))}


def _annex_for(who: Principal, annex: Annex) -> Annex:
    """The annex as `who` may read it: the same list, names masked outside their regencies."""

    def line(x: AnnexLine) -> AnnexLine:
        if who.sees_personal_data(x.regency_code):
            return x
        return dataclasses.replace(x, full_name=mask_name(x.full_name))

    return dataclasses.replace(
        annex, lines=[line(x) for x in annex.lines], removed=[line(x) for x in annex.removed]
    )


def _commands(request: Request) -> Commands:
    return application_of(request, Commands)


def _kit(rt: Runtime) -> StreamKit:
    if rt.kit is None:
        raise RuntimeError("the allocation service runs without its stream kit")
    return rt.kit


CommandsDep = Annotated[Commands, Depends(_commands)]


def build_router() -> APIRouter:
    """The routes of one allocation instance (its commands are the service's application)."""
    router = APIRouter()

    async def change(rt: Runtime, code: str, run: Any) -> dict[str, Any]:
        try:
            result: ChangeResult = await run
        except Refused as exc:
            raise _refused(exc) from exc
        except ProgrammeNotDefined as exc:
            raise _unknown(code) from exc
        async with rt.engine.connect() as conn:
            budget = (await views.programme(conn, code) or {}).get("budget")
        return {**vars(result), "budget": budget}

    @router.post("/programmes", status_code=201, tags=["programmes"])
    async def post_programme(
        request: Request, rt: RuntimeDep, commands: CommandsDep, who: Admin
    ) -> dict[str, Any]:
        """Define a programme from JSON or YAML (Content-Type application/yaml); see docs/examples/."""
        raw = await request.body()
        try:
            is_yaml = "yaml" in request.headers.get("content-type", "")
            data = yaml.safe_load(raw) if is_yaml else await request.json()
            programme = parse_programme(data)
        except (ValidationError, ValueError, yaml.YAMLError) as exc:
            raise HTTPException(422, {"code": "PROGRAMME_INVALID", "message": str(exc)[:2000]}) from exc
        try:
            created = await commands.define_programme(_kit(rt), programme)
        except ProgrammeAlreadyDefined as exc:
            raise HTTPException(409, {"code": exc.code, "message": str(exc)}) from exc
        except Refused as exc:
            raise _refused(exc) from exc
        budget = views.budget_view(
            programme.budget_cap, programme.cost_per_worker, programme.seats_total, 0, programme.months
        )
        return {"programme_code": programme.code, "created": created, **budget}

    @router.get("/programmes", tags=["programmes"])
    async def list_programmes(rt: RuntimeDep, who: Reader) -> list[dict[str, Any]]:
        """Programmes with seats, assignments and the budget position (integer rupiah)."""
        async with rt.engine.connect() as conn:
            return await views.list_programmes(conn)

    @router.get("/programmes/{code}", tags=["programmes"])
    async def get_programme(code: str, rt: RuntimeDep, who: Reader) -> dict[str, Any]:
        """One programme: settings, seats, assignments, budget (shortfall flagged) and decrees."""
        async with rt.engine.connect() as conn:
            found = await views.programme(conn, code)
        if found is None:
            raise _unknown(code)
        return found

    @router.get("/programmes/{code}/budget", tags=["programmes"])
    async def get_budget(code: str, rt: RuntimeDep, who: Reader) -> dict[str, Any]:
        """Budget cap against the quota's cost and the workers committed, in whole rupiah."""
        return dict((await get_programme(code, rt, who))["budget"])

    @router.put("/programmes/{code}/budget", tags=["quota changes"])
    async def put_budget(
        code: str, body: BudgetChange, rt: RuntimeDep, commands: CommandsDep, who: Admin
    ) -> dict[str, Any]:
        """Set the budget cap; a raise seats waiting workers in order, a cut unassigns nobody."""
        return await change(rt, code, commands.set_budget(_kit(rt), code, body.budget_cap, body.note))

    @router.get("/programmes/{code}/quotas", tags=["programmes"])
    async def quota_use(code: str, rt: RuntimeDep, who: Reader) -> list[dict[str, Any]]:
        """Seats, assigned, waiting and free per regency × sector (an officer's regency only)."""
        scope = listing_regency(who, None)
        async with rt.engine.connect() as conn:
            cells = await views.quota_use(conn, code)
        return [c for c in cells if scope is None or c.get("regency_code") == scope]

    @router.put("/programmes/{code}/quotas/{regency_code}/{sector}", tags=["quota changes"])
    async def put_seats(
        code: str,
        regency_code: str,
        sector: str,
        body: SeatsChange,
        rt: RuntimeDep,
        commands: CommandsDep,
        who: Admin,
    ) -> dict[str, Any]:
        """Raise or cut a cell's seats; a raise seats waiting workers in order, a cut unassigns nobody."""
        run = commands.set_seats(_kit(rt), code, regency_code, sector, body.seats, body.note)
        return await change(rt, code, run)

    @router.post("/programmes/{code}/quotas/move", tags=["quota changes"])
    async def move_seats(
        code: str, body: SeatsMove, rt: RuntimeDep, commands: CommandsDep, who: Admin
    ) -> dict[str, Any]:
        """Move seats between regencies (or sectors); the receiving cell seats waiting workers."""
        run = commands.move_seats(
            _kit(rt),
            code,
            (body.from_regency, body.from_sector),
            (body.to_regency, body.to_sector),
            body.seats,
            body.note,
        )
        return await change(rt, code, run)

    @router.get("/programmes/{code}/waitlist", tags=["programmes"])
    async def get_waitlist(
        code: str,
        rt: RuntimeDep,
        who: Reader,
        regency: str | None = None,
        sector: str | None = None,
        limit: int = 500,
        offset: int = 0,
    ) -> dict[str, Any]:
        """Waiting workers in the order seats will go to them (an officer's regency only)."""
        regency = listing_regency(who, regency)
        async with rt.engine.connect() as conn:
            return await views.waitlist(conn, code, regency, sector, min(max(limit, 1), 5000), max(offset, 0))

    @router.get("/programmes/{code}/assignments", tags=["programmes"])
    async def list_assignments(
        code: str,
        rt: RuntimeDep,
        who: Reader,
        status: str | None = None,
        regency: str | None = None,
        limit: int = 1000,
        offset: int = 0,
    ) -> list[dict[str, Any]]:
        """Assigned, waitlisted, released and declined workers (no NIK: worker ids only; an
        officer's regency only)."""
        regency = listing_regency(who, regency)
        async with rt.engine.connect() as conn:
            return await views.list_assignments(
                conn, code, status, regency, min(max(limit, 1), 20_000), max(offset, 0)
            )

    @router.post("/programmes/{code}/decrees", status_code=201, tags=["decrees"])
    async def post_decree(
        code: str,
        body: DecreeRequest,
        response: Response,
        rt: RuntimeDep,
        commands: CommandsDep,
        who: Admin,
    ) -> dict[str, Any]:
        """Record a signed decree (SK) fixing the assigned list; a later one is an SK perubahan.

        Emits DecreeIssued (the list's SHA-256) and AssignmentDecreed per worker added to the list.
        Repeating the same number, date and signer answers the recorded decree (200).
        """
        try:
            on = dt.date.fromisoformat(body.date)
        except ValueError:
            raise HTTPException(
                422,
                {
                    "code": "DECREE_DATE_INVALID",
                    "message": f"Tanggal SK '{body.date}' tidak sah (format YYYY-MM-DD).",
                },
            ) from None
        try:
            summary = await commands.issue_decree(_kit(rt), code, body.number, on, body.signer, body.kind)
        except Refused as exc:
            raise _refused(exc) from exc
        except ProgrammeNotDefined as exc:
            raise _unknown(code) from exc
        if not summary.created:
            response.status_code = 200
        return summary.as_json()

    @router.get("/programmes/{code}/decrees", tags=["decrees"])
    async def list_decrees(code: str, rt: RuntimeDep, who: Reader) -> list[dict[str, Any]]:
        """The programme's decrees, first to latest."""
        async with rt.engine.connect() as conn:
            return await decree_views.list_decrees(conn, code)

    @router.get("/programmes/{code}/decrees/{version}", tags=["decrees"])
    async def get_decree(code: str, version: str, rt: RuntimeDep, who: Reader) -> dict[str, Any]:
        """One decree (number or 'latest'), with the workers it added and removed (names masked
        outside the regencies the caller answers for)."""
        async with rt.engine.connect() as conn:
            found = await decree_views.decree(conn, code, _decree_version(version))
        if found is None:
            raise HTTPException(
                404, {"code": "DECREE_UNKNOWN", "message": f"SK versi {version} program {code} tidak ada."}
            )
        changes = found["changes"]
        found["changes"] = {kind: [_named(who, e) for e in changes[kind]] for kind in ("added", "removed")}
        return found

    @router.get("/programmes/{code}/decrees/{version}/annex.{fmt}", tags=["decrees"])
    async def get_annex(code: str, version: str, fmt: str, rt: RuntimeDep, who: Reader) -> Response:
        """The decree's annex (lampiran) as CSV or PDF: per regency and sector, masked NIKs, totals;
        names masked outside the regencies the caller answers for."""
        if fmt not in ("csv", "pdf"):
            raise HTTPException(
                404, {"code": "ANNEX_FORMAT", "message": "Lampiran tersedia sebagai .csv atau .pdf."}
            )
        async with rt.engine.connect() as conn:
            annex = await decree_views.annex_of(conn, code, _decree_version(version))
        if annex is None:
            raise HTTPException(
                404, {"code": "DECREE_UNKNOWN", "message": f"SK versi {version} program {code} tidak ada."}
            )
        annex = _annex_for(who, annex)
        name = f"lampiran-{code}-v{annex.version}.{fmt}"
        headers = {"content-disposition": f'attachment; filename="{name}"'}
        if fmt == "csv":
            return Response(annex_csv(annex), media_type="text/csv; charset=utf-8", headers=headers)
        # Rendering a province-wide list takes seconds: keep the event loop (and the consumer) free.
        pdf = await asyncio.to_thread(annex_pdf, annex)
        return Response(pdf, media_type="application/pdf", headers=headers)

    return router
