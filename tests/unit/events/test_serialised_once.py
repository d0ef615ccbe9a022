"""Serialise once (issue 17): an appended event's canonical JSON is written once and serves as
the text its hash covers, its stored payload and the value sent; it is the text the chain has
always hashed, so stores written before still verify."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from libs.events.contracts.registry import NominationWithdrawn
from libs.events.envelope import Envelope
from libs.eventstore.append_sql import append_parameters
from libs.eventstore.hashing import GENESIS_HASH, chain_hash
from libs.eventstore.kit import Origin, recorded_as
from libs.eventstore.ports import PendingAppend
from libs.eventstore.store import stored_rows

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


def as_written_before(envelope: Envelope) -> str:
    """The canonical JSON as the store wrote it before issue 17 (pydantic dump, then json.dumps)."""
    data = envelope.model_dump(mode="json")
    data["occurred_at"] = envelope.occurred_at.astimezone(UTC).isoformat()
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def envelope_with(payload: dict[str, Any], *, causation: uuid.UUID | None, hours: int) -> Envelope:
    return Envelope(
        event_type="NominationWithdrawn",
        schema_version=1,
        occurred_at=datetime(2026, 2, 2, 10, 30, 0, 123456, tzinfo=timezone(timedelta(hours=hours))),
        aggregate_id='w-"1"\\é',
        aggregate_version=7,
        correlation_id=uuid.uuid4(),
        causation_id=causation,
        producer="registry",
        payload=payload,
    )


@given(
    payload=st.dictionaries(st.text(max_size=10), json_values, max_size=6),
    caused=st.booleans(),
    hours=st.integers(min_value=-12, max_value=14),
)
def test_the_canonical_text_is_the_one_written_before_byte_for_byte(
    payload: dict[str, Any], caused: bool, hours: int
) -> None:
    envelope = envelope_with(payload, causation=uuid.uuid4() if caused else None, hours=hours)
    canonical = envelope.canonical()
    assert canonical.text == as_written_before(envelope) == envelope.canonical_json()
    assert json.loads(canonical.payload) == json.loads(canonical.text)["payload"]
    assert Envelope.from_bytes(canonical.encoded()) == envelope


def test_values_json_has_no_type_for_are_written_as_pydantic_writes_them() -> None:
    payload = {"on": date(2026, 1, 2), "at": datetime(2026, 1, 1, tzinfo=UTC), "id": uuid.UUID(int=1)}
    envelope = envelope_with(
        {**payload, "amount": Decimal("16800.50"), "pair": (1, 2)}, causation=None, hours=7
    )
    assert envelope.canonical().text == as_written_before(envelope)


def test_an_append_serialises_each_event_once_and_reuses_the_text() -> None:
    events = [
        NominationWithdrawn(
            worker_id=f"w-{n}",
            nomination_id=f"n-{n}",
            programme_code="TEST",
            regency_code="12.17",
            reason="moved",
            note="ü",
            withdrawn_by="test",
        )
        for n in range(2)
    ]
    recorded = recorded_as(
        events,
        stream_id="s",
        after_version=0,
        origin=Origin.new(),
        occurred_at=datetime(2026, 2, 1, tzinfo=UTC),
        producer="registry",
    )
    rows = stored_rows([PendingAppend("s", 0, recorded)], {}, {})
    params = append_parameters(rows.event_rows, rows.outbox_rows, rows.json_texts)
    prev = GENESIS_HASH
    for n, item in enumerate(recorded):
        text = item.envelope.canonical().text
        assert rows.outbox_rows[n]["value"] == text.encode()
        assert params["o_value"][n] == text.encode()
        assert json.loads(params["e_payload"][n]) == rows.event_rows[n]["payload"] == item.envelope.payload
        assert params["e_payload"][n] in text  # the payload's own text, inside the envelope's
        assert json.loads(params["o_headers"][n]) == rows.outbox_rows[n]["headers"]
        assert rows.event_rows[n]["hash"] == chain_hash(prev, item.envelope)
        prev = rows.event_rows[n]["hash"]
    # Without texts the rows are serialised as before (callers building rows by hand).
    plain = append_parameters(rows.event_rows, rows.outbox_rows)
    assert [json.loads(p) for p in plain["e_payload"]] == [json.loads(p) for p in params["e_payload"]]
