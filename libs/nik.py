"""The NIK's layout, shared by every part that builds, cleans or masks one.

``PP RR KK DDMMYY SSSS`` = province, regency/city (Kemendagri code), sub-district (kecamatan),
birth date (women: day + 40), serial. Parsing and checking a NIK is the registry's job
(services/registry/domain/nik.py); building one (demo data, benchmarks) and masking one (every
service's logs and read models) use this module, so the layout is written down once.
"""

from __future__ import annotations

import re
from datetime import date

WOMEN_DAY_OFFSET = 40
_SIXTEEN_DIGITS = re.compile(r"[0-9]{16}")
_WHITESPACE = re.compile(r"\s+")


def compose_nik(regency_code: str, subdistrict: int, birth: date, sex: str, serial: int) -> str:
    """The NIK the civil registry would issue: `regency_code` "12.71", `sex` "L" or "P"."""
    day = birth.day + (WOMEN_DAY_OFFSET if sex == "P" else 0)
    born = f"{day:02d}{birth.month:02d}{birth.year % 100:02d}"
    return f"{regency_code.replace('.', '')}{subdistrict:02d}{born}{serial:04d}"


def normalize_nik(raw: str) -> str:
    """Drop the spaces officers and spreadsheets put inside NIKs ("1271 0505 ...")."""
    return _WHITESPACE.sub("", raw)


def mask_nik(nik: str) -> str:
    """The NIK for logs and dashboards (UU 27/2022): "1271**********01".

    Kept: the regency part (dashboards group by regency; tens of thousands share it) and the
    last two serial digits (lets an officer tell two rows apart on the phone). Hidden: the
    sub-district, the birth date (which also reveals sex) and the rest of the serial, which
    together identify a person. Anything that is not a 16-digit NIK is masked whole, keeping
    only its length, so a malformed value never leaks either.
    """
    digits = normalize_nik(nik)
    if not _SIXTEEN_DIGITS.fullmatch(digits):
        return "*" * len(digits)
    return digits[:4] + "*" * 10 + digits[14:]
