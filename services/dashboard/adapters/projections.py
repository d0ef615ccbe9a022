"""Projection of consumed events into the dashboard's read models.

`project_consumed` is the whole of the dashboard's reaction to an event (it decides nothing and
emits nothing), so an audit that replays the inbox through it rebuilds the same tables. Every
write is an upsert on the row's natural key, setting only what the event knows: events about one
worker arrive on several topics, and a row fills in whatever order they come.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from sqlalchemy import CTE, Table, bindparam, delete, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events import Envelope, contract_for
from libs.events.upcasting import upcast
from services.dashboard.adapters.tables import (
    bills,
    claim_flags,
    claims,
    decrees,
    nominations,
    placements,
    premiums,
    programmes,
    quotas,
)
from services.dashboard.domain import facts as f


def fact_of(envelope: Envelope) -> f.Fact | None:
    """The counting fact of `envelope`, or None for a type the dashboard does not consume."""
    if envelope.event_type not in f.FACTS:
        return None
    current = contract_for(envelope.event_type).schema_version
    payload = envelope.payload
    if envelope.schema_version < current:
        payload = upcast(envelope.event_type, envelope.schema_version, current, payload)
    return f.fact_of(envelope.event_type, payload)


class Writer:
    """Executes a projection's statements on `conn`.

    `along` (a data-modifying CTE and its parameters) rides on the first statement: the consumer
    uses it to keep the minimised envelope in the inbox in the same round trip to PostgreSQL (it
    halves the round trips per event). Parameter names therefore never equal a column name of
    either table: SQLAlchemy would turn such a key into a SET clause of the statement riding along.
    """

    def __init__(self, conn: AsyncConnection, along: tuple[CTE, dict[str, Any]] | None = None) -> None:
        self.conn = conn
        self.along = along

    async def __call__(self, stmt: Any, params: Any = None) -> None:
        if self.along is not None and not isinstance(params, list):
            cte, extra = self.along
            self.along = None
            stmt, params = stmt.add_cte(cte), {**(params or {}), **extra}
        await self.conn.execute(stmt, params)

    async def finish(self) -> None:
        """Run `along` by itself when the projection wrote nothing it could ride on."""
        if self.along is not None:
            cte, extra = self.along
            self.along = None
            await self.conn.execute(select(cte), extra)


@cache
def _upsert_statement(table: Table, key: tuple[str, ...], columns: tuple[str, ...]) -> Any:
    # Built once per shape and executed with parameters: thousands of events a minute stay cheap.
    # Parameters are prefixed: a column name alone would also feed any statement riding along.
    stmt = insert(table).values({c: bindparam(f"v_{c}", type_=table.c[c].type) for c in key + columns})
    if columns:
        return stmt.on_conflict_do_update(
            index_elements=list(key), set_={c: stmt.excluded[c] for c in columns}
        )
    return stmt.on_conflict_do_nothing(index_elements=list(key))


async def _upsert(write: Writer, table: Table, key: Mapping[str, Any], values: Mapping[str, Any]) -> None:
    """Insert the row, or set `values` on the row with this `key`."""
    params = {f"v_{c}": v for c, v in (*key.items(), *values.items())}
    await write(_upsert_statement(table, tuple(key), tuple(values)), params)


async def project_consumed(conn: AsyncConnection, envelope: Envelope) -> None:
    """Apply one consumed event to the read models (unknown types are ignored)."""
    fact = fact_of(envelope)
    if fact is not None:
        await project_fact(conn, fact, envelope)


async def project_fact(
    conn: AsyncConnection, fact: f.Fact, envelope: Envelope, along: tuple[CTE, dict[str, Any]] | None = None
) -> None:
    """Apply the fact of `envelope` to the read models (with `along`, see Writer)."""
    write = Writer(conn, along)
    await _project(write, fact, envelope)
    await write.finish()


async def _project(write: Writer, fact: f.Fact, envelope: Envelope) -> None:
    at = envelope.occurred_at
    if isinstance(fact, f.Programme):
        await _programme(write, fact, envelope)
    elif isinstance(fact, f.SeatsSet):
        key = {
            "programme_code": fact.programme_code,
            "regency_code": fact.regency_code,
            "sector": fact.sector,
        }
        await _upsert(write, quotas, key, {"seats": fact.seats})
    elif isinstance(fact, f.CapSet):
        await write(
            update(programmes)
            .where(programmes.c.programme_code == bindparam("cap_programme"))
            .values(budget_cap=bindparam("cap")),
            {"cap_programme": fact.programme_code, "cap": fact.budget_cap},
        )
    elif isinstance(fact, f.Nominated | f.Corrected | f.Validated | f.Rejected | f.Withdrawn):
        await _nomination(write, fact, envelope)
    elif isinstance(fact, f.Assigned | f.Waitlisted | f.Unseated | f.Declined | f.Released | f.Decreed):
        await _placement(write, fact, envelope)
    elif isinstance(fact, f.Enrolled):
        await _placed(write, fact, regency_code=fact.regency_code, enrolment="enrolled", updated_at=at)
    elif isinstance(fact, f.EnrolmentFailed):
        await _placed(
            write,
            fact,
            regency_code=fact.regency_code,
            enrolment="failed",
            failure_code=fact.reason_code,
            updated_at=at,
        )
    elif isinstance(fact, f.Lapsed):
        await _placed(write, fact, lapsed_on=fact.lapsed_on, ever_lapsed=True, updated_at=at)
    elif isinstance(fact, f.Restored):
        await _placed(write, fact, lapsed_on=None, updated_at=at)
    elif isinstance(fact, f.MembershipOver):
        await _placed(
            write, fact, regency_code=fact.regency_code, membership_ended_on=fact.ended_on, updated_at=at
        )
    elif isinstance(fact, f.Billed):
        line = {k: getattr(fact, k) for k in ("programme_code", "regency_code", "month", "funder")}
        await _upsert(
            write, bills, {"bill_id": fact.bill_id}, {**line, "workers": fact.workers, "total": fact.total}
        )
    elif isinstance(fact, f.Decree):
        await _decree(write, fact)
    elif isinstance(fact, f.Premium):
        key = {
            "programme_code": fact.programme_code,
            "regency_code": fact.regency_code,
            "month": fact.month,
            "payment_ref": fact.payment_ref,
        }
        paid = {k: getattr(fact, k) for k in ("funder", "workers", "jkk_total", "jkm_total", "total")}
        await _upsert(write, premiums, key, paid)
    elif isinstance(fact, f.Claim):
        await _claim(write, fact)
    elif isinstance(fact, f.ClaimFlags):
        for reason in fact.reasons:
            await _upsert(write, claim_flags, {"claim_id": fact.claim_id, "code": reason.code}, {})


async def _programme(write: Writer, fact: f.Programme, envelope: Envelope) -> None:
    row = {
        "name": fact.name,
        "year": fact.year,
        "funder": fact.funder,
        "jurisdiction": fact.jurisdiction,
        "premium_jkk": fact.premium_jkk,
        "premium_jkm": fact.premium_jkm,
        "months": fact.months,
        "cost_per_worker": fact.cost_per_worker,
        "budget_cap": fact.budget_cap,
        "requires_decree": fact.requires_decree,
        "coverage_start": fact.coverage_start,
        "coverage_end": fact.coverage_end,
        "defined_at": envelope.occurred_at,
        "village_cap": fact.village_cap,
    }
    await _upsert(write, programmes, {"programme_code": fact.programme_code}, row)
    # The latest definition wins: its quota table replaces the previous one.
    await write(
        delete(quotas).where(quotas.c.programme_code == bindparam("quota_programme")),
        {"quota_programme": fact.programme_code},
    )
    seats: dict[tuple[str, str], int] = {}
    for cell in fact.quotas:
        seats[(cell.regency_code, cell.sector)] = seats.get((cell.regency_code, cell.sector), 0) + cell.seats
    if seats:
        await write(
            insert(quotas),
            [
                {"programme_code": fact.programme_code, "regency_code": r, "sector": s, "seats": n}
                for (r, s), n in seats.items()
            ],
        )


async def _nomination(write: Writer, fact: f.NominationFact, envelope: Envelope) -> None:
    key = {"nomination_id": fact.nomination_id}
    values: dict[str, Any] = {
        "programme_code": fact.programme_code,
        "worker_id": fact.worker_id,
        "regency_code": fact.regency_code,
        "updated_at": envelope.occurred_at,
    }
    if isinstance(fact, f.Nominated | f.Corrected | f.Validated):
        values["sector"] = fact.sector
        if fact.kecamatan_code is not None:
            values["kecamatan_code"] = fact.kecamatan_code
    if isinstance(fact, f.Validated):
        values["outcome"] = "validated"
    elif isinstance(fact, f.Rejected):
        values["outcome"] = "rejected"
        values["reason_codes"] = list(dict.fromkeys(r.code for r in fact.reasons))
    elif isinstance(fact, f.Withdrawn):
        values["withdrawn"] = True
    await _upsert(write, nominations, key, values)


async def _placement(
    write: Writer,
    fact: f.Assigned | f.Waitlisted | f.Unseated | f.Declined | f.Released | f.Decreed,
    envelope: Envelope,
) -> None:
    values: dict[str, Any] = {
        "regency_code": fact.regency_code,
        "sector": fact.sector,
        "updated_at": envelope.occurred_at,
    }
    if isinstance(fact, f.Assigned | f.Waitlisted | f.Unseated) and fact.kecamatan_code is not None:
        values["kecamatan_code"] = fact.kecamatan_code
    # A worker's allocation events share one partition (keyed by worker id): they arrive in
    # order, so the latest quota decision is the current one.
    if isinstance(fact, f.Assigned):
        values |= {"quota_status": "assigned", "waitlist_position": None, "waitlist_reason": None}
        values["release_reason"] = None
        values |= {"promoted": fact.promoted, "desa_code": fact.desa_code}
    elif isinstance(fact, f.Waitlisted | f.Unseated):
        values |= {"quota_status": "waitlisted", "waitlist_position": fact.position}
        values["waitlist_reason"] = fact.reason
    elif isinstance(fact, f.Released):
        values |= {"quota_status": "released", "waitlist_position": None, "waitlist_reason": None}
        values["release_reason"] = fact.reason
    elif isinstance(fact, f.Declined):
        # Never seated here: an overlapping programme holds the worker.
        values |= {"quota_status": "declined", "waitlist_position": None, "waitlist_reason": None}
        values["release_reason"] = None
    else:
        values["decree_number"] = fact.decree_number
    await _placed(write, fact, **values)


async def _placed(write: Writer, fact: f.PlacementFact, **values: Any) -> None:
    key = {"programme_code": fact.programme_code, "worker_id": fact.worker_id}
    await _upsert(write, placements, key, values)


async def _decree(write: Writer, fact: f.Decree) -> None:
    key = {"programme_code": fact.programme_code, "version": fact.version}
    values = {
        "decree_number": fact.decree_number,
        "decree_date": fact.decree_date,
        "signer": fact.signer,
        "worker_count": fact.worker_count,
        "total_cost": fact.total_cost,
        "added": fact.added,
        "removed": fact.removed,
    }
    await _upsert(write, decrees, key, values)


async def _claim(write: Writer, fact: f.Claim) -> None:
    values = {
        "programme_code": fact.programme_code,
        "regency_code": fact.regency_code,
        "claim_type": fact.programme,
        "benefit_kind": fact.benefit_kind,
        "incident_date": fact.incident_date,
        "paid_date": fact.paid_date,
        "amount": fact.amount,
    }
    # ClaimRecorded comes once per claim id; a later version of a claim arrives as a flag.
    await _upsert(write, claims, {"claim_id": fact.claim_id}, values)


def minimised(envelope: Envelope) -> tuple[f.Fact, Envelope]:
    """The fact of `envelope`, and `envelope` with its payload reduced to that fact at the
    contract's current version: what the dashboard's inbox keeps instead of the personal data."""
    fact = fact_of(envelope)
    if fact is None:
        raise LookupError(f"the dashboard does not consume {envelope.event_type}")
    reduced = envelope.model_copy(
        update={
            "payload": f.minimised(fact),
            "schema_version": contract_for(envelope.event_type).schema_version,
        }
    )
    return fact, reduced
