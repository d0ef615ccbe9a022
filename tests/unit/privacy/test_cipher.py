"""Field encryption and key wrapping (libs/privacy/cipher.py): pure, no database."""

from __future__ import annotations

import base64
import json

import pytest

from libs.privacy.cipher import (
    FORGOTTEN,
    CipherError,
    DataKey,
    MasterKey,
    is_encrypted,
    new_data_key,
    open_payload,
    seal_payload,
)

SUBJECT = "5b1f0c2e-0000-4000-8000-000000000001"
OTHER = "5b1f0c2e-0000-4000-8000-000000000002"
FIELDS = ("nik", "full_name", "birth_date", "address", "phone")
PAYLOAD = {
    "worker_id": SUBJECT,
    "nik": "1217054101900001",
    "full_name": "Rugun Sitanggang",
    "birth_date": "1990-01-01",
    "address": "Jl. Danau Toba 7",
    "phone": None,
    "decile": 2,
    "identity": {
        "nik": "1217054101900001",
        "full_name": "Rugun Sitanggang",
        "birth_date": "1990-01-01",
        "sex": "P",
    },
    "notes": [{"code": "X", "full_name": "Rugun Sitanggang"}],
}


def key(subject: str = SUBJECT, generation: int = 1) -> DataKey:
    return DataKey(subject, generation, new_data_key())


def test_a_sealed_payload_holds_no_clear_personal_value_and_opens_back() -> None:
    k = key()
    sealed = seal_payload(PAYLOAD, k, FIELDS)
    text = json.dumps(sealed)
    for clear in ("1217054101900001", "Rugun", "Sitanggang", "1990-01-01", "Danau Toba"):
        assert clear not in text
    assert is_encrypted(sealed["nik"]) and is_encrypted(sealed["identity"]["full_name"])
    assert sealed["notes"][0]["full_name"] != "Rugun Sitanggang"
    assert sealed["phone"] is None and sealed["decile"] == 2 and sealed["identity"]["sex"] == "P"
    assert open_payload(sealed, k, FIELDS) == PAYLOAD
    assert seal_payload(sealed, k, FIELDS) == sealed  # sealing twice changes nothing


def test_without_the_key_every_personal_field_reads_forgotten_and_the_rest_stays() -> None:
    sealed = seal_payload(PAYLOAD, key(), FIELDS)
    opened = open_payload(sealed, None, FIELDS)
    assert opened["nik"] == opened["full_name"] == opened["identity"]["birth_date"] == FORGOTTEN
    assert opened["decile"] == 2 and opened["worker_id"] == SUBJECT and opened["phone"] is None


def test_a_key_of_the_next_generation_reads_the_old_ciphertexts_as_forgotten() -> None:
    old = key(generation=1)
    sealed = seal_payload(PAYLOAD, old, FIELDS)
    assert open_payload(sealed, key(generation=2), FIELDS)["full_name"] == FORGOTTEN


def test_clear_payloads_written_before_encryption_read_as_they_are() -> None:
    assert open_payload(PAYLOAD, None, FIELDS) == PAYLOAD


def test_a_ciphertext_moved_to_another_field_or_person_or_altered_does_not_open() -> None:
    k = key()
    nik = k.encrypt("nik", "1217054101900001")
    with pytest.raises(CipherError):
        k.decrypt("full_name", nik)
    with pytest.raises(CipherError):
        DataKey(OTHER, 1, k.secret).decrypt("nik", nik)
    altered = nik[:-4] + ("AAAA" if not nik.endswith("AAAA") else "BBBB")
    with pytest.raises(CipherError):
        k.decrypt("nik", altered)
    with pytest.raises(CipherError):
        k.decrypt("nik", "enc:v1:1:short")


def test_two_encryptions_of_one_value_differ() -> None:
    k = key()
    assert k.encrypt("nik", "1217054101900001") != k.encrypt("nik", "1217054101900001")


def test_a_wrapped_data_key_opens_only_for_its_subject_and_generation_under_its_master() -> None:
    master = MasterKey.generate()
    secret = new_data_key()
    wrapped = master.wrap(SUBJECT, 1, secret)
    assert secret not in wrapped
    assert master.unwrap(SUBJECT, 1, wrapped) == secret
    for subject, generation in ((OTHER, 1), (SUBJECT, 2)):
        with pytest.raises(CipherError):
            master.unwrap(subject, generation, wrapped)
    with pytest.raises(CipherError):
        MasterKey.generate().unwrap(SUBJECT, 1, wrapped)


def test_the_master_key_setting_reads_hex_or_base64_of_32_bytes() -> None:
    master = MasterKey.generate()
    assert MasterKey.parse(master.text()) == master

    assert MasterKey.parse(base64.b64encode(master.secret).decode()) == master
    assert master.key_id == MasterKey.parse(master.text()).key_id and master.text()[:16] != master.key_id
    for bad in ("", "00" * 16, "not a key!"):
        with pytest.raises(CipherError):
            MasterKey.parse(bad)
