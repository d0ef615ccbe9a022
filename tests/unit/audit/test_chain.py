"""Hash-chain checks on stored rows: edits, deletions, re-hashed rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from libs.audit.chain import check_row, faithful_copy
from libs.events.envelope import Envelope
from libs.eventstore.hashing import GENESIS_HASH, chain_hash


@dataclass(frozen=True)
class Row:
    """The columns of an `events` row that the check reads."""

    position: int
    event_id: uuid.UUID
    aggregate_id: str
    aggregate_version: int
    event_type: str
    schema_version: int
    occurred_at: datetime
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None
    producer: str
    payload: dict[str, Any]
    prev_hash: str
    hash: str


def stream(n: int) -> list[Row]:
    rows: list[Row] = []
    prev = GENESIS_HASH
    for version in range(1, n + 1):
        envelope = Envelope(
            event_type="QuotaAssigned",
            schema_version=1,
            occurred_at=datetime(2026, 3, 1, 8, version, tzinfo=UTC),
            aggregate_id="programme-P",
            aggregate_version=version,
            correlation_id=uuid.uuid4(),
            producer="allocation",
            payload={"worker_id": f"w{version}", "regency_code": "12.17"},
        )
        digest = chain_hash(prev, envelope)
        rows.append(
            Row(
                version * 10,
                envelope.event_id,
                envelope.aggregate_id,
                version,
                envelope.event_type,
                1,
                envelope.occurred_at,
                envelope.correlation_id,
                None,
                "allocation",
                envelope.payload,
                prev,
                digest,
            )
        )
        prev = digest
    return rows


def breaks(rows: list[Row]) -> list[tuple[int, str]]:
    found = []
    for previous, row in zip([None, *rows[:-1]], rows, strict=True):
        found += [(b.version, b.kind) for b in check_row("allocation", row, previous)]
    return found


def test_an_intact_stream_has_no_break() -> None:
    assert breaks(stream(4)) == []


def test_an_edited_column_breaks_its_own_hash() -> None:
    rows = stream(4)
    rows[1] = replace(rows[1], payload={**rows[1].payload, "regency_code": "12.71"})
    assert breaks(rows) == [(2, "hash_mismatch")]
    rows = stream(4)
    rows[2] = replace(rows[2], occurred_at=datetime(2025, 1, 1, tzinfo=UTC))
    assert breaks(rows) == [(3, "hash_mismatch")]


def test_a_deleted_row_leaves_a_gap_and_a_broken_link() -> None:
    rows = stream(4)
    del rows[1]
    assert breaks(rows) == [(3, "missing_versions")]
    rows = stream(3)
    assert breaks(rows[1:]) == [(2, "missing_versions")]  # the first one deleted


def test_a_row_rehashed_by_a_forger_breaks_the_next_link() -> None:
    rows = stream(4)
    forged = replace(rows[1], payload={**rows[1].payload, "worker_id": "someone-else"})
    envelope = Envelope(
        event_id=forged.event_id,
        event_type=forged.event_type,
        schema_version=1,
        occurred_at=forged.occurred_at,
        aggregate_id=forged.aggregate_id,
        aggregate_version=2,
        correlation_id=forged.correlation_id,
        producer="allocation",
        payload=forged.payload,
    )
    rows[1] = replace(forged, hash=chain_hash(forged.prev_hash, envelope))
    assert breaks(rows) == [(3, "broken_link")]


def test_a_first_version_must_start_from_the_genesis_hash() -> None:
    rows = stream(1)
    rows[0] = replace(rows[0], prev_hash="f" * 64)
    assert (1, "broken_link") in breaks(rows)


def _envelope(**changes: Any) -> Envelope:
    values: dict[str, Any] = {
        "event_id": uuid.UUID(int=1),
        "event_type": "WorkerNominated",
        "schema_version": 2,
        "occurred_at": datetime(2026, 3, 1, tzinfo=UTC),
        "aggregate_id": "worker-w",
        "aggregate_version": 1,
        "correlation_id": uuid.UUID(int=2),
        "producer": "registry",
        "payload": {
            "worker_id": "w",
            "nik": "1217054507880001",
            "regency_code": "12.17",
            "reasons": [{"code": "A", "message": "quotes a KPJ"}],
        },
    }
    return Envelope(**{**values, **changes})


def test_a_consumer_may_keep_a_minimised_copy_but_not_a_different_one() -> None:
    stored = _envelope()
    minimised = _envelope(payload={"worker_id": "w", "regency_code": "12.17", "reasons": [{"code": "A"}]})
    assert faithful_copy(stored, stored, minimised_ok=False)
    assert faithful_copy(minimised, stored, minimised_ok=True)
    assert not faithful_copy(minimised, stored, minimised_ok=False)  # the outbox publishes whole events
    changed = _envelope(payload={"worker_id": "w", "regency_code": "12.71"})
    assert not faithful_copy(changed, stored, minimised_ok=True)
    moved = _envelope(payload={"worker_id": "w"}, aggregate_version=2)
    assert not faithful_copy(moved, stored, minimised_ok=True)


def test_a_minimised_copy_may_hold_the_upcast_version_of_an_old_event() -> None:
    v1 = {
        "worker_id": "w",
        "nomination_id": "n",
        "programme_code": "P",
        "nik": "1217054507880001",
        "full_name": "A",
        "birth_date": "1979-02-03",
        "sex": "L",
        "occupation": "petani",
        "regency_code": "12.05",
        "sawit": True,
        "funder": "APBD_PROVINSI",
        "channel": "upload",
        "submitted_by": "pilot",
    }
    stored = _envelope(schema_version=1, payload=v1)
    kept = _envelope(schema_version=2, payload={"worker_id": "w", "regency_code": "12.05", "sector": "sawit"})
    assert faithful_copy(kept, stored, minimised_ok=True)
    wrong = _envelope(schema_version=2, payload={"worker_id": "w", "sector": "non_sawit"})
    assert not faithful_copy(wrong, stored, minimised_ok=True)
