"""The NIK (Nomor Induk Kependudukan): parsing and checking against stated data (its layout,
cleaning and masking: libs/nik.py).

Layout of the 16 digits: ``PP RR KK DDMMYY SSSS`` = province, regency/city (Kemendagri code),
sub-district (kecamatan), birth date (women: day + 40), serial. The region part is where the NIK
was issued; a NIK never changes when its holder moves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Literal

from libs.nik import WOMEN_DAY_OFFSET
from libs.nik import mask_nik as mask_nik
from libs.nik import normalize_nik as normalize_nik
from libs.regions import PROVINCE_CODE, region_by_code
from libs.wording import tanggal
from services.registry.domain.reasons import ReasonCode, Rejection, reject

Sex = Literal["L", "P"]
"""Jenis kelamin as on the KTP: L = laki-laki, P = perempuan."""

SEX_WORDS: dict[Sex, str] = {"L": "laki-laki", "P": "perempuan"}

_SIXTEEN_DIGITS = re.compile(r"[0-9]{16}")


@dataclass(frozen=True, slots=True)
class ParsedNik:
    """A NIK that passed every structural check, split into its parts."""

    nik: str  # the 16 digits, whitespace removed
    province: str  # "12"
    regency_code: str  # Kemendagri, with the dot: "12.71"
    subdistrict: str  # "05"
    birth_date: date
    sex: Sex
    serial: str  # "0001"


def parse_nik(nik: str, *, reference_date: date) -> ParsedNik | list[Rejection]:
    """Split a NIK into its parts, or return every structural rejection found (never empty).

    The 2-digit year is read as the **latest year not after ``reference_date``**: "900517" is
    17 May 1990 and "170820" is 17 August 2020 for a reference date in 2026, and a date still
    ahead in the reference year falls back a century ("311226" on 1 Jan 2026 is 1926). So the
    age at the reference date is always 0–99: nobody is born in the future, and everyone the
    programme may cover (working age) gets the only plausible century. Pass a fixed date of the
    programme (its coverage start), not the clock, so that replaying a validation years later
    gives the same answer.
    """
    digits = normalize_nik(nik)
    if not _SIXTEEN_DIGITS.fullmatch(digits):
        return [reject(ReasonCode.NIK_FORMAT, length=str(len(digits)))]

    province, regency, subdistrict = digits[0:2], digits[2:4], digits[4:6]
    ddmmyy, serial = digits[6:12], digits[12:16]
    rejections: list[Rejection] = []
    if province != PROVINCE_CODE:
        rejections.append(reject(ReasonCode.NIK_PROVINCE, province=province))
    elif region_by_code(province + regency) is None:
        # Only checked inside province 12: the table holds North Sumatra alone.
        rejections.append(reject(ReasonCode.NIK_REGENCY_UNKNOWN, nik_regency_code=f"{province}.{regency}"))
    if subdistrict == "00":
        rejections.append(reject(ReasonCode.NIK_SUBDISTRICT_ZERO))
    birth = _read_birth(ddmmyy, reference_date)
    if birth is None:
        rejections.append(reject(ReasonCode.NIK_BIRTHDATE_INVALID, ddmmyy=ddmmyy))
    if serial == "0000":
        rejections.append(reject(ReasonCode.NIK_SERIAL_ZERO))
    if rejections or birth is None:
        return rejections
    birth_date, sex = birth
    return ParsedNik(
        nik=digits,
        province=province,
        regency_code=f"{province}.{regency}",
        subdistrict=subdistrict,
        birth_date=birth_date,
        sex=sex,
        serial=serial,
    )


def check_nik_against_stated(parsed: ParsedNik, *, birth_date: date, sex: str) -> list[Rejection]:
    """Rejections where the nomination's stated birth date or sex contradicts the NIK.

    A stated sex other than "L"/"P" is left to the sex rule, so it is not reported twice.
    """
    rejections: list[Rejection] = []
    if birth_date != parsed.birth_date:
        rejections.append(
            reject(
                ReasonCode.NIK_BIRTHDATE_MISMATCH,
                stated=tanggal(birth_date),
                from_nik=tanggal(parsed.birth_date),
            )
        )
    stated_sex = parse_sex(sex)
    if stated_sex is not None and stated_sex != parsed.sex:
        rejections.append(
            reject(
                ReasonCode.NIK_SEX_MISMATCH,
                stated=SEX_WORDS[stated_sex],
                from_nik=SEX_WORDS[parsed.sex],
            )
        )
    return rejections


def parse_sex(raw: str) -> Sex | None:
    """The stated jenis kelamin as "L" or "P" (case and surrounding spaces ignored), else None."""
    value = raw.strip().upper()
    if value == "L":
        return "L"
    if value == "P":
        return "P"
    return None


def _read_birth(ddmmyy: str, reference_date: date) -> tuple[date, Sex] | None:
    day, month, yy = int(ddmmyy[0:2]), int(ddmmyy[2:4]), int(ddmmyy[4:6])
    sex: Sex = "L"
    if day > WOMEN_DAY_OFFSET:
        day, sex = day - WOMEN_DAY_OFFSET, "P"
    if not 1 <= day <= 31:
        return None
    latest = reference_date.year - (reference_date.year - yy) % 100
    # One century back as well: the date may be ahead of the reference date, or a 29 February
    # in a century year that is not a leap year (1900).
    for year in (latest, latest - 100):
        try:
            born = date(year, month, day)
        except ValueError:
            continue
        if born <= reference_date:
            return born, sex
    return None
