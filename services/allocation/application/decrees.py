"""Issuing a decree (SK): freeze the assigned list as DecreeIssued (its SHA-256, see domain/decree.py)
and tell enrollment which workers the decree fixes (AssignmentDecreed, one per added worker).

The first decree (version 1) lists every assigned worker. A later one is an SK perubahan: it lists
the workers assigned now, and records the replacements against the previous list (added /
removed); only the added workers get an AssignmentDecreed, the others were decreed before.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from libs.events.contracts.allocation import AssignmentDecreed, DecreeIssued
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.common import WorkerIdentity
from libs.eventstore.errors import ConcurrencyError
from libs.eventstore.store import EventStore
from libs.pii import mask_nik
from services.allocation.adapters.tables import assignments, decree_entries, decrees
from services.allocation.application.commands import Commands, Refused
from services.allocation.application.programmes import ProgrammeFacts
from services.allocation.application.quota_stream import stream_of
from services.allocation.domain.decree import DECREE_KIND_NAMES, Decree, DecreeEntry
from services.allocation.domain.programme import DecreeKind
from services.allocation.domain.quota_events import DecreeFixed
from services.allocation.domain.sector import Sector
from services.allocation.domain.wording import number, rupiah


@dataclass(frozen=True)
class DecreeSummary:
    """A decree as recorded: what the HTTP API and the CLI show after issuing it."""

    programme_code: str
    version: int
    decree_number: str
    decree_date: dt.date
    signer: str
    list_sha256: str
    worker_count: int
    total_cost: int
    added: int
    removed: int
    supersedes: str | None
    created: bool
    kind: str = DecreeKind.SK_GUBERNUR.value  # the programme's (SK_GUBERNUR, SK_BUPATI, PERKADA)

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["decree_date"] = self.decree_date.isoformat()
        return data


async def issue_decree(
    commands: Commands,
    conn: AsyncConnection,
    store: EventStore,
    code: str,
    decree_number: str,
    decree_date: dt.date,
    signer: str,
    kind: DecreeKind | None = None,
) -> DecreeSummary:
    """Record decree `decree_number` for programme `code` (idempotent for the same number/date/signer).

    `kind`, when given, must be the programme's kind of decree (its file says which): a Perkada
    recorded for a programme fixed by SK Bupati is a mistake to catch, not to publish.
    """
    decree_number, signer = decree_number.strip(), signer.strip()
    if not decree_number:
        raise Refused(422, "DECREE_NUMBER_MISSING", "Nomor SK wajib diisi.")
    if not signer:
        raise Refused(422, "DECREE_SIGNER_MISSING", "Penanda tangan SK wajib diisi.")
    programme = await commands.book.get(conn, code)
    if kind is not None and kind is not programme.decree_kind:
        raise Refused(
            422,
            "DECREE_KIND_MISMATCH",
            f"Program {code} ditetapkan dengan {DECREE_KIND_NAMES[programme.decree_kind]}, "
            f"bukan {DECREE_KIND_NAMES[kind]}.",
        )
    loaded = await commands.states.load(conn, code)
    earlier = (
        await conn.execute(
            select(decrees).where(decrees.c.programme_code == code).order_by(decrees.c.version)
        )
    ).all()
    same = next((d for d in earlier if d.decree_number == decree_number), None)
    if same is not None:
        if (same.decree_date, same.signer) != (decree_date, signer):
            raise Refused(
                409,
                "DECREE_NUMBER_USED",
                f"Nomor SK {decree_number} sudah dipakai untuk SK versi {same.version} "
                f"tanggal {same.decree_date.isoformat()}.",
            )
        return _summary(same, created=False, kind=programme.decree_kind)

    decree = await _list(
        conn, programme, loaded.state.assigned, decree_number, decree_date, signer, len(earlier)
    )
    if not decree.entries:
        raise Refused(
            409,
            "DECREE_EMPTY",
            f"Belum ada pekerja yang mendapat kuota program {code}; SK tidak dapat diterbitkan.",
        )
    total = len(decree.entries) * programme.cost_per_worker
    if total > loaded.state.budget_cap:
        raise Refused(
            409,
            "DECREE_OVER_BUDGET",
            f"Daftar memuat {number(len(decree.entries))} pekerja senilai {rupiah(total)}, melebihi pagu "
            f"{rupiah(loaded.state.budget_cap)}. Kurangi daftar atau naikkan pagu sebelum menerbitkan SK.",
        )
    previous = await _previous(conn, programme, earlier[-1]) if earlier else None
    added = decree.diff(previous).added if previous else decree.entries
    removed = decree.diff(previous).removed if previous else ()
    if previous is not None and not added and not removed:
        raise Refused(
            409,
            "DECREE_UNCHANGED",
            f"Daftar penerima tidak berubah sejak SK {previous.number}; SK perubahan tidak diperlukan.",
        )
    issued = DecreeIssued(
        programme_code=code,
        decree_number=decree_number,
        decree_date=decree_date,
        signer=signer,
        version=decree.version,
        list_sha256=decree.list_sha256(),
        worker_count=len(decree.entries),
        total_cost=total,
        added=len(added),
        removed=len(removed),
        supersedes=previous.number if previous else None,
        kind=programme.decree_kind.value,
    )
    identities = await _identities(conn, code, {e.worker_id for e in added})
    events: list[DomainEvent] = [issued]
    events += [
        AssignmentDecreed(
            worker_id=e.worker_id,
            programme_code=code,
            decree_number=decree_number,
            funder=programme.funder,
            regency_code=e.regency,
            sector=e.sector.value,
            identity=identities[e.worker_id],
            coverage_start=programme.coverage_start,
            coverage_end=programme.coverage_end,
            premium_per_month=programme.premium_per_month,
            decree_version=decree.version,
        )
        for e in added
    ]
    appended = await store.append_chained(
        conn, stream_of(code), events, expected_version=loaded.version, correlation_id=uuid.uuid4()
    )
    commands.states.remember(code, loaded, (DecreeFixed(decree_number),), appended)
    return DecreeSummary(
        programme_code=code,
        version=decree.version,
        decree_number=decree_number,
        decree_date=decree_date,
        signer=signer,
        list_sha256=issued.list_sha256,
        worker_count=issued.worker_count,
        total_cost=total,
        added=issued.added,
        removed=issued.removed,
        supersedes=issued.supersedes,
        created=True,
        kind=programme.decree_kind.value,
    )


async def _list(
    conn: AsyncConnection,
    programme: ProgrammeFacts,
    assigned: dict[str, Any],
    decree_number: str,
    decree_date: dt.date,
    signer: str,
    earlier: int,
) -> Decree:
    """The decree listing the workers the quota state holds, named from the read model."""
    rows = (
        await conn.execute(
            select(assignments).where(
                assignments.c.programme_code == programme.code, assignments.c.status == "assigned"
            )
        )
    ).all()
    if {r.worker_id for r in rows} != set(assigned):
        # The read model moved past the state loaded (another writer committed): decide again.
        raise ConcurrencyError(stream_of(programme.code), None, -1)
    entries = tuple(
        DecreeEntry(
            worker_id=r.worker_id,
            nik_masked=mask_nik(r.identity["nik"]),
            name=r.identity["full_name"],
            regency=r.regency_code,
            sector=Sector(r.sector),
        )
        for r in rows
    )
    try:
        return Decree(decree_number, decree_date, signer, programme.code, earlier + 1, entries)
    except ValueError as exc:
        raise Refused(422, "DECREE_INVALID", f"SK tidak sah: {exc}") from exc


async def _previous(conn: AsyncConnection, programme: ProgrammeFacts, row: Any) -> Decree:
    entries = await conn.execute(
        select(decree_entries).where(
            decree_entries.c.programme_code == programme.code,
            decree_entries.c.version == row.version,
            decree_entries.c.status == "listed",
        )
    )
    return Decree(
        row.decree_number,
        row.decree_date,
        row.signer,
        programme.code,
        row.version,
        tuple(
            DecreeEntry(e.worker_id, e.nik_masked, e.full_name, e.regency_code, Sector(e.sector))
            for e in entries
        ),
    )


async def _identities(conn: AsyncConnection, code: str, worker_ids: set[str]) -> dict[str, WorkerIdentity]:
    if not worker_ids:
        return {}
    rows = await conn.execute(
        select(assignments.c.worker_id, assignments.c.identity).where(
            assignments.c.programme_code == code, assignments.c.worker_id.in_(worker_ids)
        )
    )
    return {r.worker_id: WorkerIdentity.model_validate(r.identity) for r in rows}


def _summary(row: Any, *, created: bool, kind: DecreeKind) -> DecreeSummary:
    return DecreeSummary(
        programme_code=row.programme_code,
        version=row.version,
        decree_number=row.decree_number,
        decree_date=row.decree_date,
        signer=row.signer,
        list_sha256=row.list_sha256,
        worker_count=row.worker_count,
        total_cost=row.total_cost,
        added=row.added,
        removed=row.removed,
        supersedes=row.supersedes,
        created=created,
        kind=kind.value,
    )
