"""verify's fast paths agree with the reference: a row's text, its hash verdict, a copy's text,
and the consumer copies told without parsing (each accepts only what `faithful_copy` accepts)."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from libs.audit.chain import _intact, check_row
from libs.audit.faithful import faithful_copy, plainly_faithful
from libs.audit.rowtext import copy_text, plausible_row, row_text
from libs.events.envelope import Envelope
from libs.eventstore.store import row_to_envelope
from tests.unit.audit.test_chain import Row, stream

WIB = timezone(timedelta(hours=7))


def _row_of(envelope: Envelope) -> Row:
    return Row(
        1,
        envelope.event_id,
        envelope.aggregate_id,
        envelope.aggregate_version,
        envelope.event_type,
        envelope.schema_version,
        envelope.occurred_at,
        envelope.correlation_id,
        envelope.causation_id,
        envelope.producer,
        envelope.payload,
        "0" * 64,
        "",
    )


ENVELOPES = [
    Envelope(
        event_type="WorkerNominated",
        schema_version=2,
        occurred_at=datetime(2026, 3, 1, 10, 15, 0, 123456, tzinfo=WIB),
        aggregate_id="worker-ä",
        aggregate_version=3,
        correlation_id=uuid.uuid4(),
        causation_id=uuid.uuid4(),
        producer="registry",
        payload={"full_name": "Siti Ñurhaliza", "amounts": [1, 2.5, None], "nested": {"b": True, "a": "x"}},
    ),
    Envelope(
        event_type="QuotaAssigned",
        schema_version=1,
        occurred_at=datetime(2026, 3, 1, tzinfo=UTC),
        aggregate_id="programme-P",
        aggregate_version=1,
        correlation_id=uuid.uuid4(),
        producer="allocation",
        payload={},
    ),
]


@pytest.mark.parametrize("envelope", ENVELOPES)
def test_a_rows_text_is_its_envelopes_canonical_json(envelope: Envelope) -> None:
    row = _row_of(envelope)
    assert row_text(row) == row_to_envelope(row).canonical_json() == envelope.canonical_json()
    assert plausible_row(row)


@pytest.mark.parametrize("envelope", ENVELOPES)
def test_a_copys_text_is_its_envelopes_canonical_json_as_sent_or_kept(envelope: Envelope) -> None:
    assert copy_text(json.loads(envelope.to_bytes())) == envelope.canonical_json()
    assert copy_text(envelope.model_dump(mode="json")) == envelope.canonical_json()
    assert copy_text(json.loads(envelope.canonical_json())) == envelope.canonical_json()


def test_a_copy_the_fast_path_does_not_read_goes_the_reference_way() -> None:
    whole = json.loads(ENVELOPES[0].to_bytes())
    assert copy_text({**whole, "extra": 1}) is None  # the envelope forbids other fields
    assert copy_text({k: v for k, v in whole.items() if k != "causation_id"}) is None
    assert copy_text({**whole, "occurred_at": "2026-03-01T10:15:00"}) is None  # no zone
    assert copy_text({**whole, "occurred_at": "yesterday"}) is None
    assert copy_text([whole]) is None


def test_rows_beyond_the_envelopes_limits_are_not_plausible() -> None:
    row = _row_of(ENVELOPES[1])
    assert not plausible_row(replace(row, aggregate_id=""))
    assert not plausible_row(replace(row, aggregate_id="x" * 201))
    assert not plausible_row(replace(row, schema_version=0))
    assert not plausible_row(replace(row, producer=""))
    assert not plausible_row(replace(row, payload=[1]))  # type: ignore[arg-type]


def _verdicts(rows: list[Row]) -> list[tuple[bool, bool]]:
    """(fast says intact, reference finds no break) for each row after the previous one."""
    found = []
    for previous, row in zip([None, *rows[:-1]], rows, strict=True):
        found.append((_intact(row, previous, row_text(row)), check_row("allocation", row, previous) == []))
    return found


def test_the_fast_verdict_on_a_row_is_the_reference_verdict() -> None:
    rows = stream(5)
    edited = replace(rows[2], payload={"worker_id": "someone else", "regency_code": "12.17"})
    relinked = replace(rows[3], prev_hash="f" * 64)
    gap = rows[:2] + rows[3:]
    unreadable = replace(rows[4], aggregate_id="")
    for case in (
        rows,
        [*rows[:2], edited, *rows[3:]],
        [*rows[:3], relinked, rows[4]],
        gap,
        [*rows[:4], unreadable],
    ):
        verdicts = _verdicts(case)
        assert all(fast == reference for fast, reference in verdicts), verdicts
    assert all(fast for fast, _ in _verdicts(rows))


def _stored(payload: dict[str, Any], version: int = 2, **changes: Any) -> Row:
    envelope = Envelope(
        event_id=uuid.UUID(int=1),
        event_type="WorkerNominated",
        schema_version=version,
        occurred_at=datetime(2026, 3, 1, 8, 0, 0, 5, tzinfo=UTC),
        aggregate_id="worker-w",
        aggregate_version=1,
        correlation_id=uuid.UUID(int=2),
        producer="registry",
        payload=payload,
    )
    return _row_of(envelope.model_copy(update=changes))


STORED_PAYLOAD = {"worker_id": "w", "regency_code": "12.17", "sector": "sawit", "nik": "1217054507880001"}


def _copy(row: Row, payload: dict[str, Any], **changes: Any) -> dict[str, Any]:
    data = row_to_envelope(row).model_dump(mode="json")
    return {**data, "payload": payload, **changes}


@pytest.mark.parametrize(
    ("payload", "changes", "accepted"),
    [
        ({"worker_id": "w", "regency_code": "12.17"}, {}, True),  # minimised
        ({"worker_id": "w", "kecamatan_code": "12.17.01"}, {}, False),  # the event does not decode
        ({"worker_id": "w", "regency_code": "12.71"}, {}, False),  # a kept field changed
        ({"worker_id": "w", "programme_code": "P"}, {}, False),  # a contract field the event lacks
        ({"worker_id": "w"}, {"aggregate_version": 2}, False),  # metadata moved
        ({"worker_id": "w"}, {"event_type": "WorkerValidated"}, False),
        ({"worker_id": "w"}, {"occurred_at": "2026-03-01T08:00:00Z"}, False),  # the instant changed
        ({"worker_id": "w"}, {"occurred_at": "2026-03-01T15:00:00.000005+07:00"}, True),  # the same instant
        ({"worker_id": "w"}, {"extra": 1}, False),
    ],
)
def test_a_consumer_copy_told_plainly_only_where_the_reference_accepts_it(
    payload: dict[str, Any], changes: dict[str, Any], accepted: bool
) -> None:
    stored = _stored(STORED_PAYLOAD)
    copy = _copy(stored, payload, **changes)
    assert plainly_faithful(copy, stored) is accepted
    if accepted:
        assert faithful_copy(Envelope.model_validate(copy), row_to_envelope(stored), minimised_ok=True)
