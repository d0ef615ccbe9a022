"""Issuing a decree (SK) on a programme's stream: freeze the seated list as DecreeIssued (its
SHA-256, see decree.py) and tell enrollment which workers it fixes (AssignmentDecreed, one per
worker added to the list).

The first decree (version 1) lists every seated worker. A later one is an SK perubahan: it lists
the workers seated now, and records the replacements against the previous list (added /
removed); only the added workers get an AssignmentDecreed, the others were decreed before. The
same number, date and signer again records nothing (the decree stands as recorded).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from libs.events.contracts.allocation import AssignmentDecreed, DecreeIssued
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.common import WorkerIdentity
from libs.pii import mask_nik
from services.allocation.domain.decree import DECREE_KIND_NAMES, Decree, DecreeEntry
from services.allocation.domain.programme import DecreeKind
from services.allocation.domain.refusals import Refused
from services.allocation.domain.wording import number, rupiah

if TYPE_CHECKING:
    from services.allocation.domain.programme_stream import ProgrammeStream


@dataclass(frozen=True)
class IssueDecree:
    """Record decree `number` for a programme. `kind`, when given, must be the programme's kind
    of decree (its file says which): a Perkada recorded for a programme fixed by SK Bupati is a
    mistake to catch, not to publish."""

    programme_code: str
    number: str
    date: dt.date
    signer: str
    kind: DecreeKind | None = None


def recorded_decree(state: ProgrammeStream, number_: str) -> DecreeIssued | None:
    """The decree numbered `number_` the stream recorded, if any."""
    return next((d.event for d in state.decrees if d.event.decree_number == number_), None)


def decide_decree(command: IssueDecree, state: ProgrammeStream) -> list[DomainEvent]:
    """DecreeIssued and the AssignmentDecreed of the workers it adds (see the module doc)."""
    code = command.programme_code
    decree_number, signer = command.number.strip(), command.signer.strip()
    if not decree_number:
        raise Refused(422, "DECREE_NUMBER_MISSING", "Nomor SK wajib diisi.")
    if not signer:
        raise Refused(422, "DECREE_SIGNER_MISSING", "Penanda tangan SK wajib diisi.")
    programme = state.defined(code)
    if command.kind is not None and command.kind is not programme.decree_kind:
        raise Refused(
            422,
            "DECREE_KIND_MISMATCH",
            f"Program {code} ditetapkan dengan {DECREE_KIND_NAMES[programme.decree_kind]}, "
            f"bukan {DECREE_KIND_NAMES[command.kind]}.",
        )
    same = recorded_decree(state, decree_number)
    if same is not None:
        if (same.decree_date, same.signer) != (command.date, signer):
            raise Refused(
                409,
                "DECREE_NUMBER_USED",
                f"Nomor SK {decree_number} sudah dipakai untuk SK versi {same.version} "
                f"tanggal {same.decree_date.isoformat()}.",
            )
        return []
    quota = state.quota
    entries = tuple(_entry(state, worker_id) for worker_id in sorted(quota.assigned))
    try:
        decree = Decree(decree_number, command.date, signer, code, len(state.decrees) + 1, entries)
    except ValueError as exc:
        raise Refused(422, "DECREE_INVALID", f"SK tidak sah: {exc}") from exc
    if not entries:
        raise Refused(
            409,
            "DECREE_EMPTY",
            f"Belum ada pekerja yang mendapat kuota program {code}; SK tidak dapat diterbitkan.",
        )
    total = len(entries) * programme.cost_per_worker
    if total > quota.budget_cap:
        raise Refused(
            409,
            "DECREE_OVER_BUDGET",
            f"Daftar memuat {number(len(entries))} pekerja senilai {rupiah(total)}, melebihi pagu "
            f"{rupiah(quota.budget_cap)}. Kurangi daftar atau naikkan pagu sebelum menerbitkan SK.",
        )
    previous = state.decrees[-1] if state.decrees else None
    listed_before = previous.listed if previous is not None else {}
    added = [e for e in entries if e.worker_id not in listed_before]
    removed = len(listed_before.keys() - quota.assigned.keys())
    if previous is not None and not added and not removed:
        raise Refused(
            409,
            "DECREE_UNCHANGED",
            f"Daftar penerima tidak berubah sejak SK {previous.event.decree_number}; "
            "SK perubahan tidak diperlukan.",
        )
    issued = DecreeIssued(
        programme_code=code,
        decree_number=decree_number,
        decree_date=command.date,
        signer=signer,
        version=decree.version,
        list_sha256=decree.list_sha256(),
        worker_count=len(entries),
        total_cost=total,
        added=len(added),
        removed=removed,
        supersedes=previous.event.decree_number if previous is not None else None,
        kind=programme.decree_kind.value,
    )
    events: list[DomainEvent] = [issued]
    events += [
        AssignmentDecreed(
            worker_id=e.worker_id,
            programme_code=code,
            decree_number=decree_number,
            funder=programme.funder,
            regency_code=e.regency,
            sector=e.sector.value,
            identity=_identity(state, e.worker_id),
            coverage_start=programme.coverage_start,
            coverage_end=programme.coverage_end,
            premium_per_month=programme.premium_per_month,
            decree_version=decree.version,
        )
        for e in added
    ]
    return events


def _entry(state: ProgrammeStream, worker_id: str) -> DecreeEntry:
    cell = state.quota.assigned[worker_id]
    identity = _identity(state, worker_id)
    return DecreeEntry(worker_id, mask_nik(identity.nik), identity.full_name, cell.regency, cell.sector)


def _identity(state: ProgrammeStream, worker_id: str) -> WorkerIdentity:
    facts = state.workers.get(worker_id)
    if facts is None or facts.identity is None:
        raise ValueError(f"no identity recorded for worker {worker_id} in {state.quota.programme_code}")
    return facts.identity
