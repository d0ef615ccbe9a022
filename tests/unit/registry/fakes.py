"""The registry's handlers on the in-memory store: its read models kept by a small projection in
memory, and its lookups (application/ports.py) answered from them."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from libs.events.contracts.allocation import ProgrammeDefined, QuotaCell
from libs.events.contracts.common import Funder
from libs.events.contracts.registry import (
    NominationCorrected,
    NominationWithdrawn,
    ReferenceDataImported,
    WorkerNominated,
    WorkerRejected,
    WorkerValidated,
)
from libs.events.envelope import Envelope
from libs.eventstore.decider import Recorded
from libs.eventstore.kit import StreamKit
from libs.eventstore.memory import InMemoryStore
from libs.eventstore.ports import StoreTransaction
from services.registry.application.commands import NominateWorker
from services.registry.application.ports import CurrentExtract, NominationRecord, ProgrammeRecord, SenderKey
from services.registry.application.service import Registry
from services.registry.bootstrap import build_registry
from services.registry.domain.decisions import WorkerFacts, funder_words
from services.registry.domain.nomination import ExistingNomination
from services.registry.domain.one_payer import holds_the_worker
from services.registry.domain.worker import stream_of
from tests.unit.registry.builders import OCCUPATIONS, make_nik

TODAY = date(2026, 3, 2)
PEPPER = "unit-pepper"
PROGRAMME = "SAMOSIR-2026"


def programme_record(code: str = PROGRAMME, *, seats: int = 100, **overrides: Any) -> ProgrammeRecord:
    """Samosir's programme of 2026 (regency budget), seats for non-sawit workers of Samosir."""
    fields: dict[str, Any] = {
        "programme_code": code,
        "name": f"Programme {code}",
        "year": 2026,
        "funder": Funder.APBD_KABUPATEN,
        "jurisdiction": "12.17",
        "premium_jkk": 10_000,
        "premium_jkm": 6_800,
        "months": 12,
        "coverage_start": date(2026, 1, 1),
        "coverage_end": date(2026, 12, 31),
        "budget_cap": 395_904_000,
        "allowed_deciles": [1, 2],
        "age_min": 15,
        "age_max": 65,
        "occupations": sorted(OCCUPATIONS),
        "requires_decree": False,
        "quotas": [QuotaCell(regency_code="12.17", sector="non_sawit", seats=seats)],
    }
    definition = ProgrammeDefined(**{**fields, **overrides})
    return ProgrammeRecord(
        code,
        definition.funder.value,
        definition.coverage_start,
        definition.coverage_end,
        definition.model_dump(mode="json"),
    )


def a_command(**overrides: Any) -> NominateWorker:
    """A nomination by Samosir that passes every rule when its NIK is in P3KE desil 1."""
    fields: dict[str, Any] = {
        "programme_code": PROGRAMME,
        "nik": make_nik(),
        "full_name": "Rudolf Simbolon",
        "birth_date": date(1985, 8, 17),
        "sex": "L",
        "occupation": "nelayan",
        "regency_code": "12.17",
        "kecamatan": "Pangururan",
        "desa": "Pintu Sona",
        "sector": "non_sawit",
        "decile": 1,
    }
    return NominateWorker(**{**fields, **overrides})


@dataclass
class Row:
    """A nomination's read-model row, as far as the lookups read it."""

    nomination_id: str
    worker_id: str
    programme_code: str
    regency_code: str
    funder: str
    channel: str
    submitted_by: str | None
    source_ref: str | None
    nominated_at: datetime
    status: str = "pending"
    seat: str | None = None
    reference_version: str | None = None
    reasons: tuple[str, ...] = ()


@dataclass
class World:
    """The registry's store, read models and key vault, in memory."""

    programmes: dict[str, ProgrammeRecord] = field(default_factory=lambda: {PROGRAMME: programme_record()})
    p3ke: dict[str, int] = field(default_factory=dict)
    dtks: set[str] = field(default_factory=set)
    participants: dict[str, str] = field(default_factory=dict)
    rows: dict[str, Row] = field(default_factory=dict)
    extracts: dict[str, CurrentExtract] = field(default_factory=dict)
    keys: set[str] | None = field(default_factory=set)  # None: no key vault
    sealed: list[tuple[Envelope, str]] = field(default_factory=list)
    consumed: list[Envelope] = field(default_factory=list)
    store: InMemoryStore = field(init=False)
    kit: StreamKit = field(init=False)
    registry: Registry = field(init=False)

    def __post_init__(self) -> None:
        self.store = InMemoryStore("registry", project=self.project)
        self.kit = StreamKit(self.store)
        self.registry = build_registry(
            pepper=PEPPER, today=lambda: TODAY, lookups=self.lookups, project_consumed=self.project_consumed
        )

    def lookups(self, tx: StoreTransaction) -> FakeLookups:
        return FakeLookups(self, tx)

    async def project_consumed(self, tx: StoreTransaction, envelopes: Sequence[Envelope]) -> None:
        self.consumed.extend(envelopes)

    def project(self, recorded: Sequence[Recorded]) -> None:
        for r in recorded:
            event, at = r.event, r.envelope.occurred_at
            if isinstance(event, WorkerNominated):
                self.rows[event.nomination_id] = Row(
                    event.nomination_id, event.worker_id, event.programme_code, event.regency_code,
                    event.funder.value, event.channel, event.submitted_by, event.source_ref, at,
                )  # fmt: skip
            elif isinstance(event, NominationCorrected):
                row = self.rows[event.nomination_id]
                self.rows[event.nomination_id] = replace(row, worker_id=event.worker_id, status="pending")
            elif isinstance(event, WorkerValidated | WorkerRejected):
                status = "validated" if isinstance(event, WorkerValidated) else "rejected"
                reasons = tuple(r.code for r in event.reasons) if isinstance(event, WorkerRejected) else ()
                row = replace(self.rows[event.nomination_id], status=status, reasons=reasons)
                self.rows[event.nomination_id] = replace(row, reference_version=event.reference_version)
            elif isinstance(event, NominationWithdrawn):
                self.rows[event.nomination_id] = replace(self.rows[event.nomination_id], status="withdrawn")
            elif isinstance(event, ReferenceDataImported):
                self.extracts[event.kind] = CurrentExtract(
                    event.version, event.rows, event.sequence, event.sha256
                )

    def streams(self, prefix: str) -> list[str]:
        return sorted(s for s in self.store.streams if s.startswith(prefix))


class FakeLookups:
    """The lookups of one in-memory transaction."""

    def __init__(self, world: World, tx: StoreTransaction) -> None:
        self.world = world
        self.tx = tx

    async def hold_reference_lock(self, *, exclusive: bool = False) -> None:
        return None

    async def programme(self, code: str) -> ProgrammeRecord | None:
        return self.world.programmes.get(code)

    async def reference_version(self) -> str:
        versions = {kind: e.version for kind, e in self.world.extracts.items()}
        return f"p3ke:{versions.get('p3ke', 'none')};dtks:{versions.get('dtks', 'none')}"

    async def worker_facts(
        self, worker_ids: Collection[str], coverage_start: date, programme_code: str
    ) -> dict[str, WorkerFacts]:
        ids = sorted(set(worker_ids))
        loaded = await self.tx.load([stream_of(w) for w in ids])
        facts = {w: WorkerFacts(head=loaded[stream_of(w)].version) for w in ids}
        for w, known in facts.items():
            known.p3ke_desil = self.world.p3ke.get(w)
            known.in_dtks = w in self.world.dtks
            known.active_kpj = self.world.participants.get(w)
        for row in sorted(self.world.rows.values(), key=lambda r: r.nominated_at):
            if row.worker_id not in facts:
                continue
            if not holds_the_worker(
                row.status, row.seat, same_programme=row.programme_code == programme_code
            ):
                continue
            programme = self.world.programmes[row.programme_code]
            facts[row.worker_id].existing.append(
                ExistingNomination(
                    row.nomination_id, row.regency_code, funder_words(row.funder),
                    programme.coverage_start, programme.coverage_end, row.programme_code,
                    str(programme.definition["name"]),
                )
            )  # fmt: skip
        return facts

    def _record(self, row: Row) -> NominationRecord:
        return NominationRecord(
            row.nomination_id, row.worker_id, row.programme_code, row.regency_code, row.nominated_at,
            row.reference_version,
        )  # fmt: skip

    async def lock_nomination(self, nomination_id: str) -> NominationRecord | None:
        row = self.world.rows.get(nomination_id)
        return None if row is None else self._record(row)

    async def earlier(self, producer: str, source_ref: str, programme_code: str) -> str | None:
        found = [
            r
            for r in self.world.rows.values()
            if (r.channel, r.submitted_by, r.source_ref, r.programme_code)
            == ("kafka", producer, source_ref, programme_code)
            and r.status != "withdrawn"
        ]
        return max(found, key=lambda r: r.nominated_at).nomination_id if found else None

    async def sent_before(self, keys: set[SenderKey]) -> set[SenderKey]:
        live = {
            (r.submitted_by or "", r.source_ref or "", r.programme_code)
            for r in self.world.rows.values()
            if r.channel == "kafka" and r.status != "withdrawn"
        }
        return keys & live

    async def awaiting_revalidation(self, reference: str, today: date, limit: int) -> list[NominationRecord]:
        poverty = {"NOT_IN_P3KE_OR_DTKS", "DECILE_NOT_ALLOWED", "DTKS_NOT_ACCEPTED"}
        rows = [
            r
            for r in self.world.rows.values()
            if (r.status == "pending" or (r.status == "rejected" and poverty & set(r.reasons)))
            and r.reference_version != reference
        ]
        return [self._record(r) for r in rows[:limit]]

    async def current_extract(self, kind: str) -> CurrentExtract | None:
        return self.world.extracts.get(kind)

    async def replace_extract(self, kind: str, rows: Sequence[dict[str, object]]) -> None:
        if kind == "p3ke":
            self.world.p3ke = {str(r["worker_id"]): int(str(r["decile"])) for r in rows}
        else:
            self.world.dtks = {str(r["worker_id"]) for r in rows}

    @property
    def privacy_configured(self) -> bool:
        return self.world.keys is not None

    async def destroy_key(self, worker_id: str, *, by: str, reason: str) -> int | None:
        if self.world.keys is None or worker_id not in self.world.keys:
            return None
        self.world.keys.discard(worker_id)
        return 1

    async def seal_inbox_copies(self, copies: Sequence[tuple[Envelope, str]]) -> None:
        self.world.sealed += copies
