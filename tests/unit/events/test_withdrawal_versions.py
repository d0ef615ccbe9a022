"""NominationWithdrawn v2 records who withdrew; a stored v1 event reads as "tidak tercatat"."""

from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from libs.events import Envelope, decode
from libs.events.contracts.registry import WITHDRAWN_BY_UNRECORDED, NominationWithdrawn

V1 = {
    "worker_id": "w-1",
    "nomination_id": "n-1",
    "programme_code": "SUMUT-2024",
    "regency_code": "12.17",
    "reason": "moved",
    "note": "pindah ke Medan",
}


def stored(version: int, payload: dict[str, object]) -> Envelope:
    return Envelope(
        event_type="NominationWithdrawn",
        schema_version=version,
        aggregate_id="worker-w-1",
        aggregate_version=3,
        correlation_id=uuid.uuid4(),
        producer="registry",
        payload=payload,
    )


def test_a_v1_withdrawal_reads_as_v2_withdrawn_by_nobody_recorded() -> None:
    event = decode(stored(1, V1))
    assert isinstance(event, NominationWithdrawn) and event.schema_version == 2
    assert event.withdrawn_by == WITHDRAWN_BY_UNRECORDED == "tidak tercatat"
    assert (event.reason, event.note, event.regency_code) == ("moved", "pindah ke Medan", "12.17")


def test_a_v2_withdrawal_keeps_who_withdrew() -> None:
    event = decode(stored(2, {**V1, "withdrawn_by": "Disnaker Samosir (Rina)"}))
    assert isinstance(event, NominationWithdrawn) and event.withdrawn_by == "Disnaker Samosir (Rina)"


def test_v2_requires_who_withdrew() -> None:
    with pytest.raises(ValidationError):
        NominationWithdrawn.model_validate(V1)
    with pytest.raises(ValidationError):
        NominationWithdrawn.model_validate({**V1, "withdrawn_by": ""})
