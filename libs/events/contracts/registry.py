"""Events of the registry: nominations and their validation."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import Field

from libs.events import topics
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.common import (
    Funder,
    NikDigits,
    Reason,
    RegencyCode,
    Sector,
    Sex,
    WorkerIdentity,
)

Channel = Literal["http", "upload", "kafka", "cli", "demo"]


class WorkerNominated(DomainEvent):
    """A regency office proposed a worker for a programme (v2: `sector` replaced v1's `sawit`)."""

    event_type = "WorkerNominated"
    schema_version = 2
    topic = topics.REGISTRY

    worker_id: str
    nomination_id: str
    programme_code: str
    nik: NikDigits
    full_name: str = Field(min_length=1, max_length=200)
    birth_date: date
    sex: Sex
    occupation: str
    regency_code: RegencyCode
    kecamatan: str = ""
    desa: str = ""
    address: str = ""
    phone: str | None = None
    sector: Sector
    decile: int | None = Field(default=None, ge=1, le=10)
    funder: Funder
    channel: Channel
    submitted_by: str
    source_ref: str | None = None


class WorkerValidated(DomainEvent):
    """A nomination passed every rule; it carries what allocation and enrollment need."""

    event_type = "WorkerValidated"
    topic = topics.REGISTRY

    worker_id: str
    nomination_id: str
    programme_code: str
    identity: WorkerIdentity
    occupation: str
    regency_code: RegencyCode
    sector: Sector
    decile: int | None = Field(default=None, ge=1, le=10)
    funder: Funder
    poverty_source: Literal["P3KE", "DTKS", "NONE"]
    reference_version: str
    nominated_at: datetime


class WorkerRejected(DomainEvent):
    """A nomination failed one or more rules; every reason is listed."""

    event_type = "WorkerRejected"
    topic = topics.REGISTRY

    worker_id: str
    nomination_id: str
    programme_code: str
    regency_code: str
    nik_masked: str
    reasons: list[Reason] = Field(min_length=1)


class NominationWithdrawn(DomainEvent):
    """An officer withdrew a nomination (died, moved, declined...)."""

    event_type = "NominationWithdrawn"
    topic = topics.REGISTRY

    worker_id: str
    nomination_id: str
    programme_code: str
    regency_code: str
    reason: Literal["died", "moved", "declined", "other"]
    note: str = ""
