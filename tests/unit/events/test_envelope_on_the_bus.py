"""What an envelope read from the bus must carry itself (a foreign sender writes it by hand)."""

from __future__ import annotations

import json
import uuid

import pytest

from libs.events.envelope import Envelope


def _written(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "event_id": str(uuid.uuid4()),
        "event_type": "NominationSubmitted",
        "schema_version": 1,
        "occurred_at": "2026-02-02T10:00:00+07:00",
        "aggregate_id": "SRC-1",
        "aggregate_version": 1,
        "correlation_id": str(uuid.uuid4()),
        "producer": "regency-12.17",
        "payload": {},
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_a_complete_envelope_reads_back_the_same_each_time() -> None:
    raw = json.dumps(_written()).encode()
    assert Envelope.from_bytes(raw).event_id == Envelope.from_bytes(raw).event_id


@pytest.mark.parametrize("field", ["event_id", "occurred_at"])
def test_without_an_id_or_a_time_a_resent_message_could_not_be_recognised(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        Envelope.from_bytes(json.dumps(_written(**{field: None})).encode())


def test_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        Envelope.from_bytes(json.dumps(_written(occurred_at="2026-02-02T10:00:00")).encode())


def test_what_lindung_writes_it_reads() -> None:
    written = Envelope(
        event_type="X",
        schema_version=1,
        aggregate_id="a",
        aggregate_version=1,
        correlation_id=uuid.uuid4(),
        producer="registry",
        payload={},
    )
    assert Envelope.from_bytes(written.to_bytes()) == written
