"""What a fault run is judged by, read straight from the services' schemas.

- `settled`: the flow is over. In one snapshot of the database: every outbox row is published;
  every published event a running service is interested in is in that service's inbox (applied
  or parked); every inbound nomination the test sent is in the registry's inbox; no BPJS answer
  is held back and no registration waits for one. Nothing else can make work (the enrollment
  clock acts only on waiting registrations), so a run that is settled stays settled. An event
  lost anywhere keeps a run from settling, and the pending list names it.
- `outcome`: per service, a digest of every read-model table, event counts by type and inbox
  counts by type and outcome; and the KPJ each enrolled worker got.

Digest of a table: each row as canonical JSON (sorted keys) without the columns that say when
or in which run a row was written rather than what the events decided: timestamps, identity and
sequence columns, ids drawn at random per run (nomination ids, event/correlation ids), the
calendar day of the run, and KPJ numbers (the simulator issues them from a sequence, in the order
registrations happen to arrive). The KPJs are checked on their own: one per enrolled worker, the
same in every service, never two workers with one. Content hash: SHA-256 over the sorted rows.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import DateTime, Identity, MetaData, Sequence, Table, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events.topics import SUBSCRIPTIONS
from services.allocation.adapters import tables as allocation_tables
from services.bpjs_simulator.adapters import tables as simulator_tables
from services.claims.adapters import tables as claims_tables
from services.enrollment.adapters import tables as enrollment_tables
from services.registry.adapters import tables as registry_tables
from tests.integration.faults.cluster import SERVICES

METADATA: dict[str, MetaData] = {
    "registry": registry_tables.metadata,
    "allocation": allocation_tables.metadata,
    "enrollment": enrollment_tables.metadata,
    "claims": claims_tables.metadata,
    "bpjs_simulator": simulator_tables.metadata,
}
EVENT_STORE = {"events", "outbox", "inbox", "dead_letters"}
# Values drawn per run, wherever they appear (columns or keys inside JSON documents).
RUN_SPECIFIC = frozenset(
    {
        "nomination_id",  # uuid4 per nomination
        "nomination_seq",  # microseconds of the nomination instant
        "event_id",
        "correlation_id",
        "causation_id",
        "kpj",  # the simulator's sequence, in arrival order (checked by `kpjs`)
        "seq",
        "enrolled_on",  # today
        "day",  # today (coverage facts)
        "registered_at",
        "occurred_at",
        "imported_at",
    }
)


def interested() -> dict[str, frozenset[str]]:
    """The event types each service applies (its handler's interest)."""
    from services.allocation.entrypoints.app import definition as allocation
    from services.bpjs_simulator.entrypoints.app import definition as simulator
    from services.claims.entrypoints.app import definition as claims
    from services.enrollment.entrypoints.app import definition as enrollment
    from services.registry.entrypoints.app import definition as registry

    found: dict[str, frozenset[str]] = {}
    for name, make in (
        ("registry", registry),
        ("allocation", allocation),
        ("enrollment", enrollment),
        ("claims", claims),
        ("bpjs_simulator", simulator),
    ):
        handler = make().handler
        assert handler is not None
        found[name] = handler.interested
    return found


def read_models(service: str) -> list[Table]:
    return [t for t in METADATA[service].sorted_tables if t.name not in EVENT_STORE]


def volatile(table: Table) -> set[str]:
    gone = set(RUN_SPECIFIC)
    for column in table.columns:
        if isinstance(column.type, DateTime) or isinstance(column.default, Sequence):
            gone.add(column.name)
        if column.identity is not None or isinstance(column.identity, Identity):
            gone.add(column.name)
    return gone


def canonical(value: Any) -> Any:
    """`value` without run-specific keys, at any depth."""
    if isinstance(value, dict):
        return {k: canonical(v) for k, v in value.items() if k not in RUN_SPECIFIC}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


@dataclass
class TableState:
    rows: list[str]  # canonical JSON of each row, sorted

    @property
    def digest(self) -> str:
        return hashlib.sha256("\n".join(self.rows).encode()).hexdigest()


@dataclass
class Outcome:
    """Everything a run is compared by."""

    tables: dict[str, TableState] = field(default_factory=dict)  # "schema.table"
    events: dict[str, Counter[str]] = field(default_factory=dict)
    inbox: dict[str, Counter[str]] = field(default_factory=dict)  # "EventType/outcome"
    kpjs: dict[str, str] = field(default_factory=dict)  # worker id -> KPJ (enrolled)

    def digests(self) -> dict[str, tuple[int, str]]:
        return {name: (len(state.rows), state.digest) for name, state in self.tables.items()}

    def totals(self) -> dict[str, int]:
        return {
            "events": sum(sum(c.values()) for c in self.events.values()),
            "inbox": sum(sum(c.values()) for c in self.inbox.values()),
            "rows": sum(len(s.rows) for s in self.tables.values()),
        }

    def differences(self, reference: Outcome, limit: int = 4) -> list[str]:
        """What differs from `reference` (empty when the runs agree), in words."""
        found: list[str] = []
        for name in sorted(reference.tables.keys() | self.tables.keys()):
            ours = set(self.tables[name].rows) if name in self.tables else set()
            theirs = set(reference.tables[name].rows) if name in reference.tables else set()
            if ours != theirs or len(self.tables[name].rows) != len(reference.tables[name].rows):
                found.append(
                    f"{name}: {len(self.tables[name].rows)} rows vs {len(reference.tables[name].rows)}; "
                    f"only here {sorted(ours - theirs)[:limit]}; only in the reference "
                    f"{sorted(theirs - ours)[:limit]}"
                )
        for label, ours_by, theirs_by in (
            ("events", self.events, reference.events),
            ("inbox", self.inbox, reference.inbox),
        ):
            for service in SERVICES:
                a, b = ours_by.get(service, Counter()), theirs_by.get(service, Counter())
                if a != b:
                    delta = {k: a[k] - b[k] for k in a.keys() | b.keys() if a[k] != b[k]}
                    found.append(f"{service} {label} by type differ from the reference by {delta}")
        if len(self.kpjs) != len(reference.kpjs) or set(self.kpjs) != set(reference.kpjs):
            found.append(f"{len(self.kpjs)} workers hold a KPJ vs {len(reference.kpjs)} in the reference")
        return found


async def _rows(conn: AsyncConnection, table: Table) -> list[str]:
    gone = sorted(volatile(table))
    names = ", ".join("'" + g + "'" for g in gone)
    sql = f'SELECT (to_jsonb(t) - ARRAY[{names}]::text[])::text AS j FROM "{table.schema}"."{table.name}" t'
    rows = (await conn.execute(text(sql))).scalars().all()
    return sorted(json.dumps(canonical(json.loads(r)), sort_keys=True, ensure_ascii=False) for r in rows)


async def _counts(conn: AsyncConnection, sql: str) -> Counter[str]:
    return Counter({r[0]: int(r[1]) for r in (await conn.execute(text(sql))).all()})


async def outcome(engine: AsyncEngine) -> Outcome:
    """The outcome of a settled run (one snapshot of every schema)."""
    result = Outcome()
    async with engine.connect() as conn:
        await conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        for service in SERVICES:
            for table in read_models(service):
                result.tables[f"{service}.{table.name}"] = TableState(await _rows(conn, table))
            result.events[service] = await _counts(
                conn, f"SELECT event_type, count(*) FROM {service}.events GROUP BY 1"
            )
            result.inbox[service] = await _counts(
                conn, f"SELECT event_type || '/' || outcome, count(*) FROM {service}.inbox GROUP BY 1"
            )
        result.kpjs = {
            r.worker_id: r.kpj
            for r in await conn.execute(
                text("SELECT worker_id, kpj FROM enrollment.registrations WHERE status = 'enrolled'")
            )
        }
        await conn.rollback()
    return result


async def pending(
    engine: AsyncEngine, inbound_ids: list[str], interest: dict[str, frozenset[str]]
) -> list[str]:
    """Why the run is not settled yet (empty: settled). One snapshot of every schema."""
    why: list[str] = []
    async with engine.connect() as conn:
        await conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        for service in SERVICES:
            unsent = (
                await conn.execute(text(f"SELECT count(*) FROM {service}.outbox WHERE sent_at IS NULL"))
            ).scalar_one()
            if unsent:
                why.append(f"{service}: {unsent} outbox rows unsent")
        for consumer in SERVICES:
            topics = list(SUBSCRIPTIONS[consumer])
            types = sorted(interest[consumer])
            for producer in SERVICES:
                missing = (
                    await conn.execute(
                        text(
                            f"SELECT count(*) FROM {producer}.outbox o JOIN {producer}.events e "
                            "ON e.event_id = o.event_id "
                            "WHERE o.sent_at IS NOT NULL AND o.topic = ANY(:topics) "
                            "AND e.event_type = ANY(:types) AND NOT EXISTS "
                            f"(SELECT 1 FROM {consumer}.inbox i WHERE i.event_id = o.event_id)"
                        ),
                        {"topics": topics, "types": types},
                    )
                ).scalar_one()
                if missing:
                    why.append(f"{consumer}: {missing} published events of {producer} not in its inbox")
        absent = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM unnest(CAST(:ids AS uuid[])) AS s(id) WHERE NOT EXISTS "
                    "(SELECT 1 FROM registry.inbox i WHERE i.event_id = s.id)"
                ),
                {"ids": inbound_ids},
            )
        ).scalar_one()
        if absent:
            why.append(f"registry: {absent} inbound nominations not in its inbox")
        held = (
            await conn.execute(
                text("SELECT count(*) FROM bpjs_simulator.held_messages WHERE released_at IS NULL")
            )
        ).scalar_one()
        if held:
            why.append(f"bpjs_simulator: {held} answers held")
        waiting = (
            await conn.execute(
                text("SELECT count(*) FROM enrollment.registrations WHERE status = 'requested'")
            )
        ).scalar_one()
        if waiting:
            why.append(f"enrollment: {waiting} registrations wait for BPJS")
        await conn.rollback()
    return why


async def inbox_count(engine: AsyncEngine, service: str) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(text(f"SELECT count(*) FROM {service}.inbox"))).scalar_one())


async def twice(engine: AsyncEngine) -> list[str]:
    """Decisions recorded more than once (each must be unique whatever was redelivered)."""
    checks = {
        "registry: a worker nominated twice for the programme": (
            "SELECT aggregate_id FROM registry.events WHERE event_type = 'WorkerNominated' "
            "GROUP BY aggregate_id, payload->>'programme_code' HAVING count(*) > 1"
        ),
        "registry: an inbound nomination answered twice": (
            "SELECT payload->>'source_ref' FROM registry.events "
            "WHERE event_type IN ('NominationAccepted', 'NominationRejected') "
            "GROUP BY 1 HAVING count(*) > 1"
        ),
        "allocation: a worker assigned twice": (
            "SELECT payload->>'worker_id' FROM allocation.events WHERE event_type = 'QuotaAssigned' "
            "GROUP BY 1 HAVING count(*) > 1"
        ),
        "allocation: a worker waitlisted twice": (
            "SELECT payload->>'worker_id' FROM allocation.events WHERE event_type = 'QuotaWaitlisted' "
            "GROUP BY 1 HAVING count(*) > 1"
        ),
        "enrollment: a registration with more or less than one outcome": (
            "SELECT aggregate_id FROM enrollment.events WHERE event_type LIKE 'Registration%' "
            "OR event_type IN ('EnrolledAtBPJS', 'EnrollmentFailed') GROUP BY aggregate_id "
            "HAVING count(*) FILTER (WHERE event_type IN ('EnrolledAtBPJS', 'EnrollmentFailed')) <> 1"
        ),
        "enrollment: a registration requested twice": (
            "SELECT aggregate_id FROM enrollment.events WHERE event_type = 'RegistrationRequested' "
            "GROUP BY 1 HAVING count(*) > 1"
        ),
        "bpjs_simulator: a worker registered twice": (
            "SELECT worker_id FROM bpjs_simulator.participants GROUP BY 1 HAVING count(*) > 1"
        ),
        "enrollment: a KPJ given to two workers": (
            "SELECT kpj FROM enrollment.registrations WHERE kpj IS NOT NULL GROUP BY 1 HAVING count(*) > 1"
        ),
        "KPJs differ between enrollment, the simulator, the registry and claims": (
            "SELECT r.worker_id FROM enrollment.registrations r "
            "LEFT JOIN bpjs_simulator.participants b ON b.worker_id = r.worker_id "
            "LEFT JOIN registry.participants g ON g.worker_id = r.worker_id "
            "LEFT JOIN claims.coverage c ON c.worker_id = r.worker_id "
            "WHERE r.status = 'enrolled' AND (b.kpj IS DISTINCT FROM r.kpj "
            "OR g.kpj IS DISTINCT FROM r.kpj OR c.kpj IS DISTINCT FROM r.kpj)"
        ),
    }
    found: list[str] = []
    async with engine.connect() as conn:
        for what, sql in checks.items():
            keys = (await conn.execute(text(sql))).scalars().all()
            if keys:
                found.append(f"{what}: {len(keys)} ({list(keys)[:3]})")
    return found
