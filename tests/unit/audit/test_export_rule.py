"""Which events an export of a regency takes, and the line format auditors check with jq."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from libs.audit.export import concerns, export_line
from libs.events.envelope import Envelope
from libs.eventstore.hashing import GENESIS_HASH, chain_hash

WORKERS = {"w-samosir"}
STREAMS = {"programme-SAMOSIR-2026", "worker-w-samosir"}


def test_a_regency_code_decides_when_there_is_one() -> None:
    assert concerns({"regency_code": "12.17", "worker_id": "w-x"}, "s", "12.17", WORKERS, STREAMS)
    assert not concerns(
        {"regency_code": "12.71", "worker_id": "w-samosir"}, "worker-w-samosir", "12.17", WORKERS, STREAMS
    )


def test_without_one_the_worker_or_the_stream_decides() -> None:
    assert concerns({"worker_id": "w-samosir", "kpj": "K"}, "bpjs-request-1", "12.17", WORKERS, STREAMS)
    assert concerns({"regency_code": None, "worker_id": "w-samosir"}, "claim-1", "12.17", WORKERS, STREAMS)
    assert concerns({"programme_code": "SAMOSIR-2026"}, "programme-SAMOSIR-2026", "12.17", WORKERS, STREAMS)
    assert not concerns({"worker_id": "w-medan"}, "claim-2", "12.17", WORKERS, STREAMS)


def test_a_line_carries_the_canonical_envelope_so_its_hash_recomputes() -> None:
    envelope = Envelope(
        event_type="WorkerNominated",
        schema_version=2,
        occurred_at=datetime(2026, 3, 2, 3, 4, 5, 123456, tzinfo=UTC),
        aggregate_id="worker-w",
        aggregate_version=1,
        correlation_id=uuid.uuid4(),
        producer="registry",
        payload={"full_name": "Rosmawati Siña", "regency_code": "12.17", "nested": {"b": 1, "a": [2, 1]}},
    )
    digest = chain_hash(GENESIS_HASH, envelope)
    row = SimpleNamespace(
        position=7,
        recorded_at=datetime(2026, 3, 2, 3, 4, 5, tzinfo=UTC),
        prev_hash=GENESIS_HASH,
        hash=digest,
        **{k: getattr(envelope, k) for k in Envelope.model_fields},
    )
    line = export_line("registry", row)
    record = json.loads(line)
    assert set(record) == {"service", "position", "recorded_at", "prev_hash", "hash", "envelope"}
    assert line == json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    canonical = json.dumps(record["envelope"], sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert canonical == envelope.canonical_json()
    assert hashlib.sha256(f"{record['prev_hash']}\n{canonical}".encode()).hexdigest() == record["hash"]
