"""Sealing and opening at the envelope boundary (libs/privacy/envelopes.py), without a database."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from libs.events import decode
from libs.events.contracts.allocation import AssignmentDecreed
from libs.events.contracts.common import WorkerIdentity
from libs.eventstore.kit import Origin, recorded_as
from libs.eventstore.ports import PendingAppend
from libs.eventstore.store import StoredRows, stored_rows
from libs.pii import FORGOTTEN
from libs.privacy.cipher import DataKey, is_encrypted, new_data_key, open_payload
from libs.privacy.envelopes import alike_but_sealing, read_without_keys, subjects_to_seal

NIK = "1217054101900001"


def decreed() -> AssignmentDecreed:
    return AssignmentDecreed(
        worker_id="w-1",
        programme_code="P",
        decree_number="188/1",
        funder="APBD_PROVINSI",
        regency_code="12.17",
        sector="sawit",
        identity=WorkerIdentity(nik=NIK, full_name="Rugun Sinaga", birth_date="1990-01-01", sex="P"),
        coverage_start=date(2026, 1, 1),
        coverage_end=date(2026, 12, 31),
        premium_per_month=16_800,
    )


def chained(keys: dict[str, DataKey]) -> tuple[StoredRows, list[dict[str, object]]]:
    """The rows an append of one decree writes, and the clear payloads the projection gets."""
    recorded = recorded_as(
        [decreed()],
        stream_id="programme-P",
        after_version=0,
        origin=Origin(uuid.uuid4()),
        occurred_at=datetime(2026, 2, 1, tzinfo=UTC),
        producer="allocation",
    )
    rows = stored_rows([PendingAppend("programme-P", 0, recorded)], {}, keys)
    return rows, [r.envelope.payload for r in recorded]


def appended(keys: dict[str, DataKey]) -> tuple[dict[str, object], dict[str, object], bytes]:
    rows, clear = chained(keys)
    return rows.event_rows[0]["payload"], clear[0], rows.outbox_rows[0]["value"]


def test_the_store_and_the_outbox_get_ciphertext_and_the_projection_the_clear_event() -> None:
    key = DataKey("w-1", 1, new_data_key())
    stored, clear, sent = appended({"w-1": key})
    identity = stored["identity"]
    assert isinstance(identity, dict) and is_encrypted(identity["nik"]) and identity["sex"] == "P"
    assert NIK.encode() not in sent and b"Rugun" not in sent
    assert clear == decreed().model_dump(mode="json")
    assert open_payload(stored, key, {"nik", "full_name", "birth_date"}) == clear
    assert appended({})[0] == clear  # no keys: stored as it is


def test_only_clear_personal_values_need_a_key() -> None:
    event = decreed()
    assert subjects_to_seal([event], [event.model_dump(mode="json")]) == ["w-1"]
    forgotten = decreed().model_copy(
        update={"identity": WorkerIdentity(nik=FORGOTTEN, full_name=FORGOTTEN, birth_date=FORGOTTEN, sex="P")}
    )
    assert subjects_to_seal([forgotten], [forgotten.model_dump(mode="json")]) == []


def test_without_keys_an_envelope_decodes_with_its_person_forgotten() -> None:
    rows, _ = chained({"w-1": DataKey("w-1", 1, new_data_key())})
    event = decode(read_without_keys(rows.envelopes[0]))
    assert isinstance(event, AssignmentDecreed)
    assert (event.identity.nik, event.identity.full_name, event.premium_per_month) == (
        FORGOTTEN,
        FORGOTTEN,
        16_800,
    )


def test_a_copy_sealed_on_one_side_is_alike_but_any_other_change_is_not() -> None:
    key = DataKey("w-1", 1, new_data_key())
    stored, clear, _ = appended({"w-1": key})
    assert alike_but_sealing(clear, stored) and alike_but_sealing(stored, clear)
    assert not alike_but_sealing({**clear, "premium_per_month": 1}, stored)
    assert not alike_but_sealing(clear, {**stored, "sector": "non_sawit"})
