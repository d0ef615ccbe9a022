"""How a masked audit export shows a payload (libs/audit/export.py): personal fields masked,
birth dates to the year, kecamatan and desa to the regency, texts safe for spreadsheets."""

from __future__ import annotations

from typing import Any

from libs.pii import FORGOTTEN, PERSONAL_FIELDS
from libs.spreadsheet import safe_cell

MASKED_NOTE = (
    "masked: NIKs (first 4 and last 2 digits kept), names (initials), addresses and phone numbers; "
    "birth dates generalised to the year, kecamatan and desa to the regency; texts starting like a "
    "spreadsheet formula prefixed with '; hash and prev_hash are those of the unmasked events, "
    "so line hashes cannot be recomputed from "
    "these envelopes (verify the chain with `lindung audit verify` against the store)"
)

# Where a person lives or was born, beyond what a regency's figures need: generalised when masked.
_PLACE_FIELDS = frozenset({"kecamatan", "desa"})
_DATE_OF_BIRTH_FIELDS = frozenset({"birth_date"})
_REGION_CODE_FIELDS = frozenset({"desa_code", "kecamatan_code"})


def masked_payload(payload: Any, regency: str | None = None) -> Any:
    """A payload as a masked export shows it: personal fields masked (libs.pii.PERSONAL_FIELDS, as
    mask_personal_fields does), birth dates to
    the year, kecamatan and desa names to the regency's code, desa/kecamatan codes cut to the
    regency's (12.RR), and every text leaf neutralised for spreadsheets (safe_cell)."""
    if isinstance(payload, dict):
        here = payload.get("regency_code") if isinstance(payload.get("regency_code"), str) else regency
        out: dict[str, Any] = {}
        for key, value in payload.items():
            if key in PERSONAL_FIELDS and isinstance(value, str):
                out[key] = safe_cell(PERSONAL_FIELDS[key](value))
            elif key in _DATE_OF_BIRTH_FIELDS and isinstance(value, str):
                out[key] = value if value == FORGOTTEN else value[:4]
            elif key in _PLACE_FIELDS and isinstance(value, str):
                out[key] = here
            elif key in _REGION_CODE_FIELDS and isinstance(value, str):
                out[key] = value[:5]
            else:
                out[key] = masked_payload(value, here)
        return out
    if isinstance(payload, list):
        return [masked_payload(item, regency) for item in payload]
    return safe_cell(payload)
