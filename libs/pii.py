"""Masking of personal data (UU 27/2022 on personal data protection) for logs and error texts."""

from __future__ import annotations

import re

_NIK_LIKE = re.compile(r"(?<!\d)(\d{4})\d{10}(\d{2})(?!\d)")


def mask_nik(nik: str) -> str:
    """Keep the region (first 4 digits) and the last 2; hide birth date and serial."""
    if len(nik) != 16:
        return "*" * len(nik)
    return f"{nik[:4]}{'*' * 10}{nik[-2:]}"


def redact_niks(text: str) -> str:
    """`text` with every 16-digit run masked like mask_nik."""
    return _NIK_LIKE.sub(lambda m: f"{m.group(1)}{'*' * 10}{m.group(2)}", text)
