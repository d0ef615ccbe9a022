"""The pipeline bench's view of the services' event tables: which events mark each stage (and
each way a worker fails), and the reads of them: counts while the run goes, when each worker
passed each stage once it is over."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.service_names import SERVICES

# The run's programme codes (one code: a run of one programme).
Codes = str | Sequence[str]


@dataclass(frozen=True)
class Stage:
    name: str
    schema: str
    event_type: str
    # Only this run's events: one of its programme codes in the payload, or in the request id
    # BPJS echoes.
    by_request_id: bool = False

    def match(self, alias: str = "") -> str:
        field = (
            f"{alias}payload->>'request_id' LIKE ANY(:request_suffixes)"
            if self.by_request_id
            else f"{alias}payload->>'programme_code' = ANY(:codes)"
        )
        return f"{alias}event_type = '{self.event_type}' AND {field}"

    def where(self) -> str:
        return f"position > :start AND {self.match()}"


STAGES: tuple[Stage, ...] = (
    Stage("validated", "registry", "WorkerValidated"),
    Stage("assigned", "allocation", "QuotaAssigned"),
    Stage("requested", "enrollment", "RegistrationRequested"),
    Stage("answered", "bpjs_simulator", "RegistrationAccepted", by_request_id=True),
    Stage("enrolled", "enrollment", "EnrolledAtBPJS"),
)
# Outcomes that mean a worker will not be enrolled (or not soon): counted, and the run ends early.
FAILURES: tuple[Stage, ...] = (
    Stage("rejected", "registry", "WorkerRejected"),
    Stage("waitlisted", "allocation", "QuotaWaitlisted"),
    Stage("bpjs_rejected", "bpjs_simulator", "RegistrationRejected", by_request_id=True),
    Stage("enrollment_failed", "enrollment", "EnrollmentFailed"),
)
# The schemas the stages are read from, in the services' order.
SCHEMAS = tuple(s for s in SERVICES if any(stage.schema == s for stage in (*STAGES, *FAILURES)))


async def marks_now(engine: AsyncEngine) -> dict[str, int]:
    """The last event position of each schema: the run reads only what comes after."""
    async with engine.connect() as conn:
        return {
            schema: int(
                (
                    await conn.execute(text(f"SELECT coalesce(max(position), 0) FROM {schema}.events"))
                ).scalar_one()
            )
            for schema in SCHEMAS
        }


def codes_of(codes: Codes) -> list[str]:
    """The run's programme codes as a list (a lone code is a run of one programme)."""
    return [codes] if isinstance(codes, str) else list(codes)


def params(stage: Stage, marks: dict[str, int], codes: Codes) -> dict[str, Any]:
    """The parameters of a stage's query: after the run's marks, the run's programmes."""
    listed = codes_of(codes)
    return {
        "start": marks[stage.schema],
        "codes": listed,
        "request_suffixes": [f"%:{code}" for code in listed],
    }


async def counts_so_far(engine: AsyncEngine, marks: dict[str, int], codes: Codes) -> dict[str, int]:
    """Events per stage so far: one scan of each schema's new events."""
    found: dict[str, int] = {}
    async with engine.connect() as conn:
        for schema in SCHEMAS:
            mine = [s for s in (*STAGES, *FAILURES) if s.schema == schema]
            columns = ", ".join(f"count(*) FILTER (WHERE {s.match()}) AS {s.name}" for s in mine)
            sql = text(f"SELECT {columns} FROM {schema}.events WHERE position > :start")
            row = (await conn.execute(sql, params(mine[0], marks, codes))).one()
            found.update({s.name: int(getattr(row, s.name)) for s in mine})
    return found


async def first_times(
    engine: AsyncEngine, stage: Stage, marks: dict[str, int], codes: Codes
) -> dict[str, float]:
    """worker_id → epoch seconds when the stage's first event for that worker was on the broker.

    The relay's `sent_at` (after the broker acknowledged) rather than the event's `recorded_at`:
    that is the start of the transaction, and one transaction decides a whole consumer batch.
    """
    sql = text(
        "SELECT e.payload->>'worker_id' AS worker_id, "
        "extract(epoch FROM min(coalesce(o.sent_at, e.recorded_at))) AS at "
        f"FROM {stage.schema}.events e LEFT JOIN {stage.schema}.outbox o ON o.event_id = e.event_id "
        f"WHERE e.position > :start AND {stage.match('e.')} "
        "GROUP BY 1"
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(sql, params(stage, marks, codes))).all()
    return {str(r.worker_id): float(r.at) for r in rows}


async def source_refs(engine: AsyncEngine, marks: dict[str, int], code: str) -> dict[str, str]:
    """worker_id → the inbound message's source_ref (`bench-<index>`)."""
    sql = text(
        "SELECT payload->>'worker_id' AS worker_id, payload->>'source_ref' AS ref FROM registry.events "
        "WHERE position > :start AND event_type = 'WorkerNominated' AND payload->>'programme_code' = :code"
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(sql, {"start": marks["registry"], "code": code})).all()
    return {str(r.worker_id): str(r.ref) for r in rows}


async def appended_since(engine: AsyncEngine, marks: dict[str, int]) -> dict[str, int]:
    """Events appended to each schema since `marks` (the dashboard's included: it consumes)."""
    async with engine.connect() as conn:
        return {
            schema: int(
                (
                    await conn.execute(
                        text(f"SELECT count(*) FROM {schema}.events WHERE position > :start"),
                        {"start": marks[schema]},
                    )
                ).scalar_one()
            )
            for schema in SCHEMAS
        }
