"""Events of the registry: nominations and their validation."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Literal

from pydantic import Field

from libs.events import topics
from libs.events.contracts.base import DomainEvent
from libs.events.contracts.common import (
    Forgotten,
    Funder,
    NikDigits,
    Reason,
    RegencyCode,
    Sector,
    Sex,
    WorkerIdentity,
)
from libs.pii import ENCRYPTED_FIELDS

Channel = Literal["http", "upload", "kafka", "cli", "demo"]


class WorkerNominated(DomainEvent):
    """A regency office proposed a worker for a programme (v2: `sector` replaced v1's `sawit`)."""

    event_type = "WorkerNominated"
    schema_version = 2
    topic = topics.REGISTRY
    personal_fields = ENCRYPTED_FIELDS

    worker_id: str
    nomination_id: str
    programme_code: str
    nik: NikDigits
    full_name: str = Field(min_length=1, max_length=200)
    birth_date: date | Forgotten
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
    personal_fields = ENCRYPTED_FIELDS

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
    # The official code of the form's desa/kelurahan (12.RR.KK.NNNN) when the name was found in
    # that kecamatan; None when not found (refused if the programme caps seats per village).
    desa_code: str | None = None
    # Warnings the officer should see, not reasons to refuse (e.g. a NIK issued in another regency).
    notes: list[Reason] = Field(default_factory=list)


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
    # Which P3KE/DTKS extracts were consulted ("p3ke:<version>;dtks:<version>"); None before 2026-12.
    reference_version: str | None = None


# What a NominationWithdrawn of v1 (before the withdrawer was recorded) says of who withdrew.
WITHDRAWN_BY_UNRECORDED = "tidak tercatat"


class NominationWithdrawn(DomainEvent):
    """An officer withdrew a nomination (died, moved, declined...).

    v2 records who withdrew (`withdrawn_by`: the key holder, and the person at the desk if they
    said so); v1 events read as withdrawn by WITHDRAWN_BY_UNRECORDED.
    """

    event_type = "NominationWithdrawn"
    schema_version = 2
    topic = topics.REGISTRY

    worker_id: str
    nomination_id: str
    programme_code: str
    regency_code: str
    reason: Literal["died", "moved", "declined", "other"]
    note: str = ""
    withdrawn_by: str = Field(min_length=1, max_length=300)


class NominationCorrected(DomainEvent):
    """An officer corrected a rejected nomination; it carries the whole corrected nomination.

    Appended to the stream of the (corrected) worker and followed by the new decision
    (WorkerValidated or WorkerRejected). When the NIK itself was corrected, the nomination moves to
    the new worker's stream and `previous_worker_id` names the stream it came from.
    """

    event_type = "NominationCorrected"
    topic = topics.REGISTRY
    personal_fields = ENCRYPTED_FIELDS

    worker_id: str
    nomination_id: str
    programme_code: str
    previous_worker_id: str | None = None
    nik: NikDigits
    full_name: str = Field(min_length=1, max_length=200)
    birth_date: date | Forgotten
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
    corrected_by: str
    corrected_fields: list[str]
    note: str = ""


class NominationRevalidated(DomainEvent):
    """A new reference-data version arrived: the nomination is decided again (decision follows)."""

    event_type = "NominationRevalidated"
    topic = topics.REGISTRY

    worker_id: str
    nomination_id: str
    programme_code: str
    regency_code: str
    reference_version: str
    previous_reference_version: str | None = None
    previous_status: Literal["pending", "rejected"]
    trigger: str = Field(description="The reference version (kind-sha) whose import caused this.")


class ReferenceDataImported(DomainEvent):
    """A P3KE or DTKS extract replaced the previous one (rows live in tables keyed by worker id)."""

    event_type = "ReferenceDataImported"
    topic = topics.REGISTRY

    kind: Literal["p3ke", "dtks"]
    version: str
    sequence: int = Field(ge=1, description="1 for the first import of this kind, then 2, 3...")
    rows: int = Field(ge=0)
    skipped: int = Field(default=0, ge=0)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="SHA-256 of the imported file.")
    imported_at: datetime
    source_name: str = ""

    def partition_key(self) -> str | None:
        return f"reference-{self.kind}"


class NominationSubmitted(DomainEvent):
    """A regency system proposes one worker (inbound topic `lindung.nominations.inbound.v1`).

    The same fields as the HTTP command (`POST /nominations`), deliberately loose: a wrong value
    is answered with reason codes, not refused as a malformed message. `source_ref` is the regency
    system's own id of the row; use it as the Kafka key. The envelope's `producer` names the
    regency system (e.g. "regency-12.17").
    """

    event_type = "NominationSubmitted"
    topic = topics.NOMINATIONS_INBOUND

    programme_code: str = Field(min_length=1, max_length=60)
    nik: str = Field(max_length=32)
    full_name: str = Field(max_length=200)
    birth_date: date
    sex: str = Field(max_length=10, description="L (laki-laki) or P (perempuan)")
    occupation: str = Field(max_length=100)
    regency_code: str = Field(max_length=10, description="Kemendagri code of the nominating regency")
    kecamatan: str = Field(max_length=100)
    desa: str = Field(max_length=100)
    address: str = Field(default="", max_length=300)
    phone: str | None = Field(default=None, max_length=30)
    sector: str = Field(max_length=20, description="sawit or non_sawit")
    decile: int | None = Field(default=None, ge=1, le=10)
    source_ref: str = Field(min_length=1, max_length=100)

    def partition_key(self) -> str | None:
        return self.source_ref


class NominationAccepted(DomainEvent):
    """Reply to a NominationSubmitted: the nomination was recorded and validated."""

    event_type = "NominationAccepted"
    topic = topics.NOMINATION_REPLIES

    request_event_id: uuid.UUID
    source_ref: str
    regency_system: str
    programme_code: str
    nomination_id: str
    worker_id: str
    reference_version: str | None = None
    repeated: bool = Field(default=False, description="The same source_ref was answered before.")
    notes: list[Reason] = Field(default_factory=list, description="Warnings, not reasons to refuse.")

    def partition_key(self) -> str | None:
        return self.source_ref


class NominationRejected(DomainEvent):
    """Reply to a NominationSubmitted that was not validated, with every reason (code + message).

    status: `rejected` = recorded and refused by the rules (nomination_id set); `invalid` = not even
    a well-formed nomination, nothing recorded; `malformed` = the message could not be read and was
    parked in the dead-letter topic; `unprocessed` = the registry failed on it and parked it.
    """

    event_type = "NominationRejected"
    topic = topics.NOMINATION_REPLIES

    request_event_id: uuid.UUID | None = None
    source_ref: str | None = None
    regency_system: str | None = None
    programme_code: str | None = None
    nomination_id: str | None = None
    worker_id: str | None = None
    status: Literal["rejected", "invalid", "malformed", "unprocessed"]
    reasons: list[Reason] = Field(min_length=1)
    reference_version: str | None = None
    repeated: bool = False
    # The Kafka key of a request that could not be read (the reply is keyed by it).
    request_key: str | None = None

    def partition_key(self) -> str | None:
        return self.request_key or self.source_ref


class PersonForgotten(DomainEvent):
    """A person was forgotten (UU 27/2022): their data key is destroyed, so every personal field
    Lindung stored of them (sealed under that key) reads as libs.pii.FORGOTTEN from now on; each
    service scrubs its read models. Carries who and why, never the NIK; counts and money stay."""

    event_type = "PersonForgotten"
    topic = topics.REGISTRY

    worker_id: str
    forgotten_by: str = Field(min_length=1, max_length=300)
    reason: str = Field(min_length=1, max_length=500, description="Why (no personal data in it).")
    key_generation: int = Field(ge=1, description="The generation of the destroyed key.")
