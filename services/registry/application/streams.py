"""One nomination's state, folded from its worker's event stream (the source of truth)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from libs.events import Envelope, decode
from libs.events.contracts.common import Reason
from libs.events.contracts.registry import (
    NominationCorrected,
    NominationWithdrawn,
    WorkerNominated,
    WorkerRejected,
    WorkerValidated,
)

# What an officer may correct: everything the regency states about the worker. Not the programme
# nor the nominating regency (a nomination never changes hands), nor the funder.
CORRECTABLE = (
    "nik",
    "full_name",
    "birth_date",
    "sex",
    "occupation",
    "kecamatan",
    "desa",
    "address",
    "phone",
    "sector",
    "decile",
)


@dataclass
class NominationState:
    """A nomination as its events left it."""

    nomination_id: str
    source: WorkerNominated | NominationCorrected  # the latest statement of its fields
    status: str = "pending"  # pending | validated | rejected | withdrawn
    reasons: list[Reason] = field(default_factory=list)
    reference_version: str | None = None
    source_ref: str | None = None
    submitted_by: str | None = None

    @property
    def worker_id(self) -> str:
        return self.source.worker_id


def fold_nomination(envelopes: Sequence[Envelope], nomination_id: str) -> NominationState | None:
    """The state of `nomination_id` from one worker stream's events (None if it is not there)."""
    state: NominationState | None = None
    for envelope in envelopes:
        if envelope.payload.get("nomination_id") != nomination_id:
            continue
        event = decode(envelope)
        if isinstance(event, WorkerNominated):
            state = NominationState(
                nomination_id, event, source_ref=event.source_ref, submitted_by=event.submitted_by
            )
        elif isinstance(event, NominationCorrected):
            if state is None:  # the NIK was corrected: the nomination continues on this stream
                state = NominationState(nomination_id, event)
            state.source, state.status, state.reasons = event, "pending", []
        elif state is None:
            continue
        elif isinstance(event, WorkerValidated):
            state.status, state.reasons = "validated", []
            state.reference_version = event.reference_version
        elif isinstance(event, WorkerRejected):
            state.status, state.reasons = "rejected", list(event.reasons)
            state.reference_version = event.reference_version
        elif isinstance(event, NominationWithdrawn):
            state.status = "withdrawn"
    return state
