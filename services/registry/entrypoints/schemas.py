"""What the registry's HTTP API reads and answers besides events: request bodies, the answer to
one nomination, and refusals in the documented shape (`{"code", "message", ...}`)."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from libs.events.contracts.common import Reason
from services.registry.domain.answers import Answer, AnswerCode, answer
from services.registry.domain.dates import birth_date_answer
from services.registry.domain.reasons import Rejection


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


def refuse(status: int, why: Answer | Rejection, **extra: Any) -> HTTPException:
    """A refusal with its code and Indonesian message (and `extra` fields)."""
    return HTTPException(status, {"code": why.code.value, "message": why.message, **extra})


class ForgetPerson(BaseModel):
    """Whom to forget (the NIK goes in the body, never in a URL) and why."""

    model_config = ConfigDict(extra="forbid")

    nik: str = Field(min_length=16, max_length=32)
    reason: str = Field(min_length=1, max_length=500, description="Why (no personal data in it).")


async def request_invalid(request: Request, exc: Exception) -> JSONResponse:
    """A request FastAPI could not read, answered in the documented shape with a Lindung code
    (installed for the registry by its entrypoint): a birth date that does not exist says so
    (BIRTH_DATE_NONEXISTENT); anything else names the fields to check (REQUEST_INVALID)."""
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    fields = list(dict.fromkeys(".".join(str(p) for p in e["loc"] if p != "body") or "body" for e in errors))
    why = birth_date_answer(errors) or answer(AnswerCode.REQUEST_INVALID, fields=", ".join(fields))
    body = {"code": why.code.value, "message": why.message, "fields": fields}
    return JSONResponse({"detail": body}, status_code=422)
