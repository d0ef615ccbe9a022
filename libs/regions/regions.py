"""The 33 regencies (kabupaten) and cities (kota) of North Sumatra, from a packaged table.

Two code systems exist and are easy to confuse:

- **Kemendagri** codes (Ministry of Home Affairs), e.g. Medan = ``12.71``. NIKs carry these,
  without the dot, in digits 1–4 (``1271``). Lindung identifies regions by them.
- **BPS** codes (Statistics Indonesia), e.g. Medan = ``1275``, while BPS ``1271`` is Sibolga.
  They appear in statistical extracts only, and are looked up with :func:`region_by_bps`.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Literal, cast

PROVINCE_CODE = "12"
"""Kemendagri (and BPS) code of North Sumatra province."""

_DATA_FILE = "sumut_regions.csv"
_KINDS = ("kabupaten", "kota")


@dataclass(frozen=True, slots=True)
class Region:
    """A regency or city of North Sumatra."""

    kemendagri_code: str  # "12.71"
    bps_code: str  # "1275"
    name: str  # "Medan"
    kind: Literal["kabupaten", "kota"]
    note: str

    @property
    def nik_code(self) -> str:
        """The 4 digits that open the NIK of a person registered here ("1271")."""
        return self.kemendagri_code.replace(".", "")

    @property
    def official_name(self) -> str:
        """The name officers write in letters and decrees ("Kota Medan", "Kabupaten Karo")."""
        return f"{self.kind.capitalize()} {self.name}"


def all_regions() -> tuple[Region, ...]:
    """All regencies and cities, in the order of the packaged table (Kemendagri order)."""
    return _load()


def region_by_code(code: str) -> Region | None:
    """The region with this Kemendagri code, written "12.71" or as in a NIK, "1271".

    BPS codes are deliberately not accepted here (BPS "1271" is Sibolga, Kemendagri "1271" is
    Medan); use :func:`region_by_bps` for them. Returns None for an unknown or malformed code.
    """
    return _by_kemendagri().get(_as_kemendagri(code.strip()))


def region_by_bps(code: str) -> Region | None:
    """The region with this 4-digit BPS code ("1275" = Medan), or None."""
    return _by_bps().get(code.strip())


def _as_kemendagri(code: str) -> str:
    if len(code) == 4 and code.isdigit():
        return f"{code[:2]}.{code[2:]}"
    return code


@cache
def _load() -> tuple[Region, ...]:
    text = files(__package__ or "libs.regions").joinpath(_DATA_FILE).read_text(encoding="utf-8")
    return tuple(_parse_row(row) for row in csv.DictReader(io.StringIO(text)))


def _parse_row(row: dict[str, str]) -> Region:
    kind = row["type"].strip()
    if kind not in _KINDS:
        # A typo in the packaged table must stop start-up, not silently mislabel a city.
        raise ValueError(f"{_DATA_FILE}: unknown kind {kind!r} for {row['kemendagri_code']}")
    return Region(
        kemendagri_code=row["kemendagri_code"].strip(),
        bps_code=row["bps_code"].strip(),
        name=row["name"].strip(),
        kind=cast(Literal["kabupaten", "kota"], kind),
        note=(row.get("seed_note") or "").strip(),
    )


@cache
def _by_kemendagri() -> dict[str, Region]:
    return {region.kemendagri_code: region for region in _load()}


@cache
def _by_bps() -> dict[str, Region]:
    return {region.bps_code: region for region in _load()}
