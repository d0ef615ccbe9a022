"""Events as the registry, allocation, enrollment and claims services publish them, for feeding the
dashboard through the real topics: the real contracts, one envelope each, keyed like the services
key them (the worker id, or the contract's own partition key)."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import ARRAY, Uuid, any_, bindparam, func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from libs.events.contracts.allocation import (
    AssignmentDecreed,
    BudgetChanged,
    DecreeIssued,
    ProgrammeDefined,
    QuotaAssigned,
    QuotaCell,
    QuotaChanged,
    QuotaReleased,
    QuotaWaitlisted,
)
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.claims import ClaimFlagged, ClaimRecorded
from libs.events.contracts.common import Funder, Reason, WorkerIdentity
from libs.events.contracts.enrollment import (
    CoverageLapsed,
    CoverageRestored,
    EnrolledAtBPJS,
    EnrollmentFailed,
    MembershipEnded,
    PremiumBilled,
    PremiumPaid,
)
from libs.events.contracts.registry import (
    NominationCorrected,
    NominationWithdrawn,
    WorkerNominated,
    WorkerRejected,
    WorkerValidated,
)
from libs.events.envelope import Envelope
from libs.identity import worker_id_for
from libs.pii import mask_nik
from libs.regions import kecamatan_numbers
from libs.settings import get_settings
from services.dashboard.adapters.tables import eventstore
from tests.support.envelopes import envelope_of
from tests.support.kafka import produce_records

PRODUCERS = {
    "lindung.registry.v1": "registry",
    "lindung.allocation.v1": "allocation",
    "lindung.enrollment.v1": "enrollment",
    "lindung.claims.v1": "claims",
}
PREMIUM = 16_800
COST = PREMIUM * 12


@dataclass
class Person:
    """A worker as a regency office knows them (personal data: only in events, never stored)."""

    nik: str
    full_name: str
    birth_date: date
    sex: str
    regency: str
    sector: str

    @property
    def worker_id(self) -> str:
        return worker_id_for(self.nik, get_settings().nik_pepper)

    def identity(self) -> WorkerIdentity:
        return WorkerIdentity(
            nik=self.nik, full_name=self.full_name, birth_date=self.birth_date.isoformat(), sex=self.sex
        )


def person(regency: str, sector: str, serial: int, seed: int, name: str | None = None) -> Person:
    """A plausible worker with a well-formed NIK of `regency` (unique per seed and serial)."""
    birth = date(1965, 1, 1) + timedelta(days=(serial * 7919 + seed * 104729) % (365 * 40))
    sex = "P" if (serial + seed) % 2 else "L"
    day = birth.day + (40 if sex == "P" else 0)
    # A kecamatan the regency has (NIK digits 5-6): the dashboard counts workers per kecamatan.
    numbers = kecamatan_numbers(regency) or tuple(range(1, 21))
    district = numbers[(serial + seed) % len(numbers)]
    nik = f"{regency.replace('.', '')}{district:02d}{day:02d}{birth.month:02d}{birth.year % 100:02d}"
    nik += f"{(seed * 7 + serial) % 9999 + 1:04d}"
    return Person(nik, name or f"Pekerja {seed}-{serial}", birth, sex, regency, sector)


@dataclass
class Feed:
    """Events to publish, in the order each service would have published them."""

    programme: str
    sent: list[tuple[str, str, Envelope]] = field(default_factory=list)  # (topic, key, envelope)
    clock: datetime = field(default_factory=lambda: datetime(2025, 1, 6, 8, 0, tzinfo=UTC))

    def emit(self, event: DomainEvent, aggregate_id: str, *, schema_version: int | None = None) -> Envelope:
        self.clock += timedelta(seconds=1)
        env = envelope_of(
            event,
            PRODUCERS[event.topic],
            aggregate_id,
            occurred_at=self.clock,
            schema_version=schema_version or event.schema_version,
        )
        self.sent.append((event.topic, event.partition_key() or aggregate_id, env))
        return env

    def raw(self, topic: str, key: str, env: Envelope) -> None:
        """Publish an envelope exactly as given (an older schema version, a type nobody knows...)."""
        self.sent.append((topic, key, env))

    # --- allocation: the programme ---------------------------------------------------------------
    def define(
        self,
        name: str,
        year: int,
        cap: int,
        cells: dict[tuple[str, str], int],
        requires_decree: bool = True,
        jurisdiction: str = "12",
        village_cap: int | None = None,
    ) -> None:
        self.emit(
            ProgrammeDefined(
                programme_code=self.programme,
                name=name,
                year=year,
                funder=Funder.APBD_PROVINSI if jurisdiction == "12" else Funder.APBD_KABUPATEN,
                jurisdiction=jurisdiction,
                premium_jkk=10_000,
                premium_jkm=6_800,
                months=12,
                coverage_start=date(year, 1, 1),
                coverage_end=date(year, 12, 31),
                budget_cap=cap,
                allowed_deciles=[1, 2],
                age_min=15,
                age_max=65,
                occupations=["petani", "nelayan", "pekerja sawit"],
                requires_decree=requires_decree,
                quotas=[QuotaCell(regency_code=r, sector=s, seats=n) for (r, s), n in cells.items()],
                village_cap=village_cap,
            ),
            f"programme-{self.programme}",
        )

    # --- registry ------------------------------------------------------------------------------
    def nominate(self, p: Person) -> str:
        nomination_id = str(uuid.uuid4())
        self.emit(
            WorkerNominated(
                worker_id=p.worker_id,
                nomination_id=nomination_id,
                programme_code=self.programme,
                nik=p.nik,
                full_name=p.full_name,
                birth_date=p.birth_date,
                sex=p.sex,  # type: ignore[arg-type]
                occupation="petani",
                regency_code=p.regency,
                kecamatan="Pangururan",
                desa="Lumban Suhi Suhi",
                address="Jl. Danau Toba 1",
                phone="081234567890",
                sector=p.sector,  # type: ignore[arg-type]
                funder=Funder.APBD_PROVINSI,
                channel="http",
                submitted_by=f"dinas-tenaga-kerja-{p.regency}",
            ),
            f"worker-{p.worker_id}",
        )
        return nomination_id

    def validate(self, p: Person, nomination_id: str, desa: str | None = None) -> None:
        self.emit(
            WorkerValidated(
                worker_id=p.worker_id,
                nomination_id=nomination_id,
                programme_code=self.programme,
                identity=p.identity(),
                occupation="petani",
                regency_code=p.regency,
                sector=p.sector,  # type: ignore[arg-type]
                decile=1,
                funder=Funder.APBD_PROVINSI,
                poverty_source="P3KE",
                reference_version="p3ke:2025-01;dtks:none",
                nominated_at=self.clock,
                desa_code=desa,
            ),
            f"worker-{p.worker_id}",
        )

    def reject(self, p: Person, nomination_id: str, *codes: str) -> None:
        self.emit(
            WorkerRejected(
                worker_id=p.worker_id,
                nomination_id=nomination_id,
                programme_code=self.programme,
                regency_code=p.regency,
                nik_masked=mask_nik(p.nik),
                # Real messages may quote personal data (a KPJ): the dashboard must not keep them.
                reasons=[
                    Reason(code=c, message=f"{c} untuk NIK {p.nik}", details={"nik": p.nik}) for c in codes
                ],
            ),
            f"worker-{p.worker_id}",
        )

    def correct(self, p: Person, nomination_id: str) -> None:
        self.emit(
            NominationCorrected(
                worker_id=p.worker_id,
                nomination_id=nomination_id,
                programme_code=self.programme,
                nik=p.nik,
                full_name=p.full_name,
                birth_date=p.birth_date,
                sex=p.sex,  # type: ignore[arg-type]
                occupation="petani",
                regency_code=p.regency,
                sector=p.sector,  # type: ignore[arg-type]
                funder=Funder.APBD_PROVINSI,
                channel="http",
                corrected_by="petugas",
                corrected_fields=["kecamatan"],
            ),
            f"worker-{p.worker_id}",
        )

    def withdraw(self, p: Person, nomination_id: str) -> None:
        self.emit(
            NominationWithdrawn(
                worker_id=p.worker_id,
                nomination_id=nomination_id,
                programme_code=self.programme,
                regency_code=p.regency,
                reason="moved",
                withdrawn_by="test",
            ),
            f"worker-{p.worker_id}",
        )

    # --- allocation: seats and decrees ------------------------------------------------------------
    def assign(self, p: Person, nomination_id: str, promoted: bool = False, desa: str | None = None) -> None:
        self.emit(
            QuotaAssigned(
                worker_id=p.worker_id,
                nomination_id=nomination_id,
                programme_code=self.programme,
                funder=Funder.APBD_PROVINSI,
                regency_code=p.regency,
                sector=p.sector,  # type: ignore[arg-type]
                decile=1,
                identity=p.identity(),
                coverage_start=date(2025, 1, 1),
                coverage_end=date(2025, 12, 31),
                premium_per_month=PREMIUM,
                requires_decree=True,
                promoted=promoted,
                desa_code=desa,
            ),
            f"quota-{self.programme}",
        )

    def waitlist(self, p: Person, nomination_id: str, position: int) -> None:
        self.emit(
            QuotaWaitlisted(
                worker_id=p.worker_id,
                nomination_id=nomination_id,
                programme_code=self.programme,
                regency_code=p.regency,
                sector=p.sector,  # type: ignore[arg-type]
                decile=1,
                identity=p.identity(),
                nomination_seq=position,
                decree_round=0,
                position=position,
                reason="no_seat",
            ),
            f"quota-{self.programme}",
        )

    def release(self, p: Person, reason: str) -> None:
        self.emit(
            QuotaReleased(
                worker_id=p.worker_id,
                programme_code=self.programme,
                regency_code=p.regency,
                sector=p.sector,  # type: ignore[arg-type]
                reason=reason,  # type: ignore[arg-type]
            ),
            f"quota-{self.programme}",
        )

    def seats(self, regency: str, sector: str, seats: int, previous: int) -> None:
        self.emit(
            QuotaChanged(
                programme_code=self.programme,
                regency_code=regency,
                sector=sector,  # type: ignore[arg-type]
                seats=seats,
                previous_seats=previous,
                over_assigned=0,
            ),
            f"quota-{self.programme}",
        )

    def budget(self, cap: int, previous: int) -> None:
        self.emit(
            BudgetChanged(
                programme_code=self.programme, budget_cap=cap, previous_cap=previous, over_committed=0
            ),
            f"quota-{self.programme}",
        )

    def decree(self, number: str, version: int, workers: int) -> None:
        self.emit(
            DecreeIssued(
                programme_code=self.programme,
                decree_number=number,
                decree_date=date(2025, 2, 14),
                signer="Gubernur Sumatera Utara",
                version=version,
                list_sha256="ab" * 32,
                worker_count=workers,
                total_cost=workers * COST,
                added=workers,
            ),
            f"decree-{self.programme}",
        )

    def decreed(self, p: Person, number: str) -> None:
        self.emit(
            AssignmentDecreed(
                worker_id=p.worker_id,
                programme_code=self.programme,
                decree_number=number,
                funder=Funder.APBD_PROVINSI,
                regency_code=p.regency,
                sector=p.sector,  # type: ignore[arg-type]
                identity=p.identity(),
                coverage_start=date(2025, 1, 1),
                coverage_end=date(2025, 12, 31),
                premium_per_month=PREMIUM,
            ),
            f"decree-{self.programme}",
        )

    # --- enrollment ------------------------------------------------------------------------------
    def enrol(self, p: Person) -> None:
        self.emit(
            EnrolledAtBPJS(
                worker_id=p.worker_id,
                programme_code=self.programme,
                funder=Funder.APBD_PROVINSI,
                regency_code=p.regency,
                kpj=f"KPJ{p.nik[-10:]}",
                coverage_start=date(2025, 1, 1),
                coverage_end=date(2025, 12, 31),
                request_id=f"{p.worker_id}:{self.programme}",
            ),
            f"registration-{p.worker_id}:{self.programme}",
        )

    def fail(self, p: Person, code: str = "NIK_NOT_FOUND") -> None:
        self.emit(
            EnrollmentFailed(
                worker_id=p.worker_id,
                programme_code=self.programme,
                regency_code=p.regency,
                reason_code=code,
                reason=f"NIK {p.nik} tidak ditemukan",
                request_id=f"{p.worker_id}:{self.programme}",
            ),
            f"registration-{p.worker_id}:{self.programme}",
        )

    def lapse(self, p: Person) -> None:
        self.emit(
            CoverageLapsed(
                worker_id=p.worker_id,
                programme_code=self.programme,
                lapsed_on=date(2025, 4, 30),
                month_unpaid="2025-05",
            ),
            f"registration-{p.worker_id}:{self.programme}",
        )

    def restore(self, p: Person) -> None:
        self.emit(
            CoverageRestored(
                worker_id=p.worker_id,
                programme_code=self.programme,
                month_paid="2025-05",
                restored_from=date(2025, 5, 1),
                bill_id=f"bill-{self.programme}-{p.regency}-2025-05",
            ),
            f"registration-{p.worker_id}:{self.programme}",
        )

    def premium(self, regency: str, month: str, workers: int) -> None:
        self.emit(
            PremiumPaid(
                programme_code=self.programme,
                month=month,
                funder=Funder.APBD_PROVINSI,
                regency_code=regency,
                workers=workers,
                jkk_total=workers * 10_000,
                jkm_total=workers * 6_800,
                total=workers * PREMIUM,
                payment_ref=f"PAY-{self.programme}-{regency}-{month}",
            ),
            f"billing-{self.programme}-{regency}",
        )

    def bill(self, regency: str, month: str, workers: list[Person]) -> None:
        self.emit(
            PremiumBilled(
                bill_id=f"BILL-{self.programme}-{regency}-{month}",
                programme_code=self.programme,
                month=month,
                funder=Funder.APBD_PROVINSI,
                regency_code=regency,
                workers=len(workers),
                jkk_per_worker=10_000,
                jkm_per_worker=6_800,
                jkk_total=len(workers) * 10_000,
                jkm_total=len(workers) * 6_800,
                total=len(workers) * PREMIUM,
                worker_ids=[p.worker_id for p in workers],
                billed_on=date(int(month[:4]), int(month[5:]), 1),
            ),
            f"billing-{self.programme}-{regency}",
        )

    def membership_ended(self, p: Person) -> None:
        self.emit(
            MembershipEnded(
                worker_id=p.worker_id,
                programme_code=self.programme,
                regency_code=p.regency,
                kpj=f"KPJ{p.nik[-10:]}",
                months_unpaid=["2025-05", "2025-06", "2025-07", "2025-08"],
                ended_on=date(2025, 4, 30),
                arrears_months_allowed=3,
            ),
            f"registration-{p.worker_id}:{self.programme}",
        )

    # --- claims --------------------------------------------------------------------------------
    def claim(
        self, claim_id: str, p: Person | None, kind: str, benefit: str, paid: date, amount: int
    ) -> None:
        self.emit(
            ClaimRecorded(
                claim_id=claim_id,
                worker_id=p.worker_id if p else None,
                kpj=f"KPJ{p.nik[-10:]}" if p else "KPJ-UNKNOWN",
                programme_code=self.programme if p else None,
                regency_code=p.regency if p else None,
                programme=kind,  # type: ignore[arg-type]
                benefit_kind=benefit,
                incident_date=paid - timedelta(days=20),
                paid_date=paid,
                amount=amount,
            ),
            f"claim-{claim_id}",
        )

    def flag(self, claim_id: str, p: Person | None, *codes: str) -> None:
        self.emit(
            ClaimFlagged(
                claim_id=claim_id,
                worker_id=p.worker_id if p else None,
                kpj=f"KPJ{p.nik[-10:]}" if p else "KPJ-UNKNOWN",
                reasons=[Reason(code=c, message=c) for c in codes],
            ),
            f"claim-{claim_id}",
        )


async def publish(bootstrap: str, sent: list[tuple[str, str, Envelope]]) -> None:
    """Publish every envelope in order (per key, the order the services would keep)."""
    await produce_records(bootstrap, sent, in_flight=True, linger_ms=20, max_batch_size=512 * 1024)


async def consumed(engine: AsyncEngine, event_ids: list[uuid.UUID]) -> int:
    """How many of `event_ids` the dashboard's inbox holds."""
    inbox = eventstore.inbox
    wanted = bindparam("ids", list(set(event_ids)), type_=ARRAY(Uuid))
    async with engine.connect() as conn:
        seen = await conn.execute(select(func.count()).where(inbox.c.event_id == any_(wanted)))
        return int(seen.scalar_one())


async def wait_consumed(engine: AsyncEngine, event_ids: list[uuid.UUID], timeout_s: float = 60.0) -> None:
    """Return once every event id is in the inbox."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while (seen := await consumed(engine, event_ids)) < len(set(event_ids)):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"dashboard consumed {seen} of {len(set(event_ids))} events in {timeout_s}s")
        await asyncio.sleep(0.5)


async def dump_text(engine: AsyncEngine) -> str:
    """Every row of every dashboard table, as text (to look for personal data in it)."""
    async with engine.connect() as conn:
        names = [
            r.table_name
            for r in await conn.execute(
                text("SELECT table_name FROM information_schema.tables WHERE table_schema = 'dashboard'")
            )
        ]
        parts: list[Any] = []
        for name in names:
            rows = await conn.execute(text(f'SELECT t::text FROM dashboard."{name}" AS t'))
            parts += [r[0] for r in rows]
    return "\n".join(parts)
