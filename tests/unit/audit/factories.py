"""Envelopes of allocation and enrollment events for the audit unit tests."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from libs.events.contracts.allocation import (
    DecreeIssued,
    ProgrammeDefined,
    QuotaAssigned,
    QuotaCell,
    QuotaReleased,
    QuotaWaitlisted,
)
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.common import Funder, WorkerIdentity
from libs.events.contracts.enrollment import CoverageLapsed, EnrolledAtBPJS, EnrollmentFailed
from libs.events.envelope import Envelope

T0 = datetime(2026, 2, 1, 1, 0, tzinfo=UTC)
PROGRAMME = "SUMUT-2026"
IDENTITY = WorkerIdentity(
    nik="1217054507880001", full_name="Rosmawati Sinaga", birth_date="1988-07-05", sex="P"
)


class Log:
    """A stream of envelopes with increasing versions and times (one minute apart)."""

    def __init__(self, stream: str = f"programme-{PROGRAMME}", producer: str = "allocation") -> None:
        self.stream = stream
        self.producer = producer
        self.envelopes: list[Envelope] = []

    def add(self, event: DomainEvent, *, at: datetime | None = None, stream: str | None = None) -> Envelope:
        version = 1 + sum(1 for e in self.envelopes if e.aggregate_id == (stream or self.stream))
        envelope = Envelope(
            event_type=event.event_type,
            schema_version=event.schema_version,
            occurred_at=at or T0 + timedelta(minutes=len(self.envelopes)),
            aggregate_id=stream or self.stream,
            aggregate_version=version,
            correlation_id=uuid.uuid4(),
            producer=self.producer,
            payload=event.model_dump(mode="json"),
        )
        self.envelopes.append(envelope)
        return envelope


def defined(seats: dict[tuple[str, str], int], cap: int = 100_000_000, **changes: Any) -> ProgrammeDefined:
    values: dict[str, Any] = {
        "programme_code": PROGRAMME,
        "name": "Programme",
        "year": 2026,
        "funder": Funder.APBD_PROVINSI,
        "jurisdiction": "12",
        "premium_jkk": 10_000,
        "premium_jkm": 6_800,
        "months": 12,
        "coverage_start": date(2026, 1, 1),
        "coverage_end": date(2026, 12, 31),
        "budget_cap": cap,
        "allowed_deciles": [1, 2],
        "age_min": 15,
        "age_max": 65,
        "occupations": ["petani"],
        "requires_decree": True,
        "quotas": [QuotaCell(regency_code=r, sector=s, seats=n) for (r, s), n in seats.items()],  # type: ignore[arg-type]
    }
    return ProgrammeDefined(**{**values, **changes})


def assigned(worker: str, regency: str = "12.17", sector: str = "non_sawit", **changes: Any) -> QuotaAssigned:
    values: dict[str, Any] = {
        "worker_id": worker,
        "nomination_id": f"n-{worker}",
        "programme_code": PROGRAMME,
        "funder": Funder.APBD_PROVINSI,
        "regency_code": regency,
        "sector": sector,
        "decile": 1,
        "identity": IDENTITY,
        "coverage_start": date(2026, 1, 1),
        "coverage_end": date(2026, 12, 31),
        "premium_per_month": 16_800,
        "requires_decree": True,
    }
    return QuotaAssigned(**{**values, **changes})


def waitlisted(worker: str, regency: str = "12.17", sector: str = "non_sawit") -> QuotaWaitlisted:
    return QuotaWaitlisted(
        worker_id=worker,
        nomination_id=f"n-{worker}",
        programme_code=PROGRAMME,
        regency_code=regency,
        sector=sector,  # type: ignore[arg-type]
        decile=2,
        identity=IDENTITY,
        nomination_seq=1,
        decree_round=0,
        position=1,
        reason="no_seat",
    )


def released(worker: str, regency: str = "12.17", sector: str = "non_sawit") -> QuotaReleased:
    return QuotaReleased(
        worker_id=worker,
        programme_code=PROGRAMME,
        regency_code=regency,
        sector=sector,  # type: ignore[arg-type]
        reason="withdrawn",
    )


def decree(list_sha256: str, count: int, version: int = 1) -> DecreeIssued:
    return DecreeIssued(
        programme_code=PROGRAMME,
        decree_number=f"188.44/{version}/KPTS/2026",
        decree_date=date(2026, 2, version),
        signer="Gubernur Sumatera Utara",
        version=version,
        list_sha256=list_sha256,
        worker_count=count,
        total_cost=count * 201_600,
    )


def enrolled(
    worker: str,
    programme: str = PROGRAMME,
    start: date = date(2026, 1, 1),
    end: date = date(2026, 12, 31),
    kpj: str = "KPJ1",
) -> EnrolledAtBPJS:
    return EnrolledAtBPJS(
        worker_id=worker,
        programme_code=programme,
        funder=Funder.APBD_PROVINSI,
        regency_code="12.17",
        kpj=kpj,
        coverage_start=start,
        coverage_end=end,
        request_id=f"{worker}:{programme}",
    )


def failed(worker: str, programme: str = PROGRAMME) -> EnrollmentFailed:
    return EnrollmentFailed(
        worker_id=worker,
        programme_code=programme,
        regency_code="12.17",
        reason_code="AGE_OUT_OF_RANGE",
        reason="Usia di luar batas.",
        request_id=f"{worker}:{programme}",
    )


def lapsed(worker: str, on: date, programme: str = PROGRAMME) -> CoverageLapsed:
    return CoverageLapsed(
        worker_id=worker, programme_code=programme, lapsed_on=on, month_unpaid=on.strftime("%Y-%m")
    )
