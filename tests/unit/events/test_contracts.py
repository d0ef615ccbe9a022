"""Envelope, contracts, upcasting and schema export."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from pydantic import ValidationError

from libs.events import CONTRACTS, Envelope, decode
from libs.events.catalog import UnknownEventType, UnsupportedVersion
from libs.events.contracts.registry import WorkerNominated
from libs.events.schemas import export_schemas
from libs.events.topics import all_topic_names
from libs.eventstore.hashing import GENESIS_HASH, chain_hash
from libs.identity import worker_id_for
from libs.pii import mask_nik, redact_niks

V1_NOMINATION = {
    "worker_id": "w-1",
    "nomination_id": "n-1",
    "programme_code": "SUMUT-2024",
    "nik": "1217054507880001",
    "full_name": "Rosmawati Sinaga",
    "birth_date": "1988-07-05",
    "sex": "P",
    "occupation": "petani",
    "regency_code": "12.17",
    "sawit": True,
    "funder": "APBD_PROVINSI",
    "channel": "upload",
    "submitted_by": "dinas-naker-samosir",
}


def envelope(event_type: str, version: int, payload: dict) -> Envelope:  # type: ignore[type-arg]
    return Envelope(
        event_type=event_type,
        schema_version=version,
        aggregate_id="worker-w-1",
        aggregate_version=1,
        correlation_id=uuid.uuid4(),
        producer="registry",
        payload=payload,
    )


def test_stored_v1_nomination_reads_as_v2_with_its_sector() -> None:
    event = decode(envelope("WorkerNominated", 1, V1_NOMINATION))
    assert isinstance(event, WorkerNominated)
    assert event.schema_version == 2
    assert event.sector == "sawit"
    non_sawit = decode(envelope("WorkerNominated", 1, {**V1_NOMINATION, "sawit": False}))
    assert isinstance(non_sawit, WorkerNominated) and non_sawit.sector == "non_sawit"


def test_v1_payload_is_not_valid_as_v2_without_upcasting() -> None:
    with pytest.raises(ValidationError):
        WorkerNominated.model_validate(V1_NOMINATION)


def test_unknown_type_and_future_version_are_refused() -> None:
    with pytest.raises(UnknownEventType):
        decode(envelope("NoSuchEvent", 1, {}))
    with pytest.raises(UnsupportedVersion):
        decode(envelope("WorkerNominated", 3, V1_NOMINATION))


def test_envelope_round_trips_through_bytes() -> None:
    original = envelope("WorkerNominated", 1, V1_NOMINATION)
    assert Envelope.from_bytes(original.to_bytes()) == original


def test_hash_chain_changes_when_any_field_changes() -> None:
    original = envelope("WorkerNominated", 1, V1_NOMINATION)
    tampered = original.model_copy(update={"payload": {**V1_NOMINATION, "full_name": "Someone Else"}})
    assert chain_hash(GENESIS_HASH, original) != chain_hash(GENESIS_HASH, tampered)
    assert chain_hash(GENESIS_HASH, original) == chain_hash(GENESIS_HASH, original)
    assert chain_hash("1" * 64, original) != chain_hash(GENESIS_HASH, original)


def test_every_contract_names_a_known_topic_and_is_unique() -> None:
    names = [c.event_type for c in CONTRACTS]
    assert len(names) == len(set(names))
    topics = set(all_topic_names())
    assert all(c.topic in topics for c in CONTRACTS)


def test_schema_export_writes_one_file_per_contract(tmp_path: Path) -> None:
    written = export_schemas(tmp_path)
    assert len(written) == len(CONTRACTS) + 1
    nominated = json.loads((tmp_path / "WorkerNominated.v2.json").read_text())
    assert nominated["x-topic"] == "lindung.registry.v1"
    assert "sector" in nominated["properties"]


def test_worker_ids_are_stable_and_do_not_reveal_the_nik() -> None:
    a = worker_id_for("1217054507880001", "pepper")
    assert a == worker_id_for("1217054507880001", "pepper")
    assert a != worker_id_for("1217054507880001", "other-pepper")
    assert "1217054507880001" not in a


def test_nik_masking_in_free_text() -> None:
    assert mask_nik("1217054507880001") == "1217**********01"
    assert redact_niks("NIK 1217054507880001 ditolak") == "NIK 1217**********01 ditolak"
    assert redact_niks("kpj 12345") == "kpj 12345"
