"""Read-model effects of the events enrollment consumes (no decision, no new event): the
programmes it bills by (premiums, period, seats and budget cap), BPJS's answers to stop-payments,
and forgotten persons. Audits replay the inbox through `project_consumed`, as the handler does live."""

from __future__ import annotations

from typing import Any

from sqlalchemy import cast, func, update
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope, decode
from libs.events.contracts.allocation import BudgetChanged, ProgrammeDefined, QuotaChanged
from libs.events.contracts.bpjs import DeregistrationConfirmed, DeregistrationRejected
from libs.events.contracts.registry import PersonForgotten
from libs.pii import FORGOTTEN
from services.enrollment.adapters.tables import deregistrations, programmes, registrations


def cell_key(regency_code: str, sector: str) -> str:
    """The key of a quota cell in `programmes.quotas`."""
    return f"{regency_code}|{sector}"


async def project_consumed(conn: AsyncConnection, envelope: Envelope) -> None:
    """Read-model effects of consumed events: the programmes enrollment bills by (premiums,
    period, seats and budget cap) and BPJS's confirmations of stop-payments."""
    event = decode(envelope)
    p = programmes
    if isinstance(event, PersonForgotten):
        # What a replay writes too: the registrations' NIK opened without a key is FORGOTTEN.
        r = registrations
        await conn.execute(update(r).where(r.c.worker_id == event.worker_id).values(nik_masked=FORGOTTEN))
        return
    if isinstance(event, QuotaChanged):
        seats = func.jsonb_build_object(cell_key(event.regency_code, event.sector), event.seats)
        await conn.execute(
            update(p)
            .where(p.c.programme_code == event.programme_code)
            .values(quotas=func.coalesce(p.c.quotas, cast({}, JSONB)).op("||")(seats))
        )
        return
    if isinstance(event, BudgetChanged):
        await conn.execute(
            update(p).where(p.c.programme_code == event.programme_code).values(budget_cap=event.budget_cap)
        )
        return
    if isinstance(event, DeregistrationConfirmed | DeregistrationRejected):
        # BPJS's first answer to a stop-payment stands; repeats match no `requested` row.
        answer: dict[str, Any] = {"confirmed_attempt": event.attempt, "updated_at": envelope.occurred_at}
        if isinstance(event, DeregistrationConfirmed):
            answer |= {"status": "confirmed", "effective_on": event.effective_on}
        else:
            answer |= {"status": "rejected", "refusal_code": event.reason_code, "refusal": event.reason}
        d = deregistrations
        await conn.execute(
            update(d).where(d.c.request_id == event.request_id, d.c.status == "requested").values(answer)
        )
        return
    if not isinstance(event, ProgrammeDefined):
        return
    row = {
        "programme_code": event.programme_code,
        "funder": event.funder,
        "premium_jkk": event.premium_jkk,
        "premium_jkm": event.premium_jkm,
        "months": event.months,
        "coverage_start": event.coverage_start,
        "coverage_end": event.coverage_end,
        "requires_decree": event.requires_decree,
        "updated_at": envelope.occurred_at,
        "budget_cap": event.budget_cap,
        "quotas": {cell_key(q.regency_code, q.sector): q.seats for q in event.quotas},
    }
    await conn.execute(
        insert(programmes)
        .values(row)
        .on_conflict_do_update(
            index_elements=["programme_code"], set_={k: v for k, v in row.items() if k != "programme_code"}
        )
    )
