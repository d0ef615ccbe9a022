"""The kecamatan (455) and desa/kelurahan (6,110) of North Sumatra, from packaged tables.

Source: Kepmendagri No 300.2.2-2138 Tahun 2025 (Kemendagri codes), see /docs/registry.md. Codes:
kecamatan ``12.RR.KK`` (a NIK's digits 5–6 are ``KK``), desa/kelurahan ``12.RR.KK.NNNN``.

Officers write place names by hand, with spelling variants ("Lumban Suhi-Suhi", "Lumbansuhi
Suhi", "Kec. Pangururan"): names are compared by :func:`place_key`, which ignores case, spaces,
punctuation and the words naming the kind of place, and answer with the official record.
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import Literal, cast

_KECAMATAN_FILE = "sumut_kecamatan.csv"
_DESA_FILE = "sumut_desa.csv"

# Words officers put before a name to say what kind of place it is: not part of the name.
_KIND_PREFIX = re.compile(r"^\s*(kecamatan|kec|desa|des|kelurahan|kel|dusun|nagari)\b[\s.:]*", re.IGNORECASE)
_NOT_ALNUM = re.compile(r"[^0-9a-z]")


@dataclass(frozen=True, slots=True)
class Kecamatan:
    """A sub-district (kecamatan)."""

    code: str  # "12.17.08"
    regency_code: str  # "12.17"
    name: str  # "Pangururan"


@dataclass(frozen=True, slots=True)
class Desa:
    """A village: a desa, or a kelurahan (urban village; its 4-digit part starts with 1)."""

    code: str  # "12.17.08.2001"
    kecamatan_code: str  # "12.17.08"
    regency_code: str  # "12.17"
    kind: Literal["desa", "kelurahan"]
    name: str


def place_key(name: str) -> str:
    """A name as compared: no kind word before it, lower case, letters and digits only.

    "Kec. Sitio-Tio" and "sitio tio" give "sitiotio"; "Lumban Suhi-Suhi" and "Lumbansuhi Suhi"
    give "lumbansuhisuhi".
    """
    return _NOT_ALNUM.sub("", _KIND_PREFIX.sub("", name).casefold())


def kecamatan_by_code(code: str) -> Kecamatan | None:
    """The kecamatan with this code ("12.17.08"), or None."""
    return _kecamatan_by_code().get(code.strip())


def kecamatan_of_regency(regency_code: str) -> tuple[Kecamatan, ...]:
    """The kecamatan of one regency/city ("12.17"), in code order (empty for an unknown code)."""
    return _kecamatan_by_regency().get(regency_code.strip(), ())


def kecamatan_of_nik(nik: str) -> Kecamatan | None:
    """The kecamatan a NIK was issued in (digits 1–6: 121708... is 12.17.08), or None."""
    return kecamatan_by_code(f"{nik[0:2]}.{nik[2:4]}.{nik[4:6]}")


def kecamatan_numbers(regency_code: str) -> tuple[int, ...]:
    """The numbers a NIK issued in this regency may carry in digits 5–6 (12.17: 1 to 9)."""
    return tuple(int(k.code[-2:]) for k in kecamatan_of_regency(regency_code))


def find_kecamatan(regency_code: str, name: str) -> Kecamatan | None:
    """The kecamatan of `regency_code` whose name matches `name` leniently, or None."""
    key = place_key(name)
    return (
        next((k for k in kecamatan_of_regency(regency_code) if place_key(k.name) == key), None)
        if key
        else None
    )


def desa_of_regency(regency_code: str) -> tuple[Desa, ...]:
    """The desa and kelurahan of one regency/city, in code order (Labuhanbatu 12.10: 98)."""
    return _desa_by_regency().get(regency_code.strip(), ())


def desa_of_kecamatan(kecamatan_code: str) -> tuple[Desa, ...]:
    """The desa and kelurahan of one kecamatan ("12.17.08"), in code order."""
    return _desa_by_kecamatan().get(kecamatan_code.strip(), ())


def find_desa(regency_code: str, name: str, kecamatan_code: str | None = None) -> Desa | None:
    """The desa/kelurahan of `regency_code` (and of `kecamatan_code`, when given) named `name`.

    Without a kecamatan a name may be ambiguous (189 names recur within a regency): then the
    answer is None, as for an unknown name, since guessing would pick someone else's village.
    """
    key = place_key(name)
    if not key:
        return None
    candidates = (
        desa_of_regency(regency_code) if kecamatan_code is None else desa_of_kecamatan(kecamatan_code)
    )
    matches = [d for d in candidates if place_key(d.name) == key and d.regency_code == regency_code.strip()]
    if kecamatan_code is None and len(matches) > 1:
        return None
    return matches[0] if matches else None


@cache
def all_kecamatan() -> tuple[Kecamatan, ...]:
    """Every kecamatan of North Sumatra, in code order."""
    return tuple(
        Kecamatan(
            code=row["kecamatan_code"].strip(),
            regency_code=row["regency_code"].strip(),
            name=row["name"].strip(),
        )
        for row in _rows(_KECAMATAN_FILE)
    )


@cache
def all_desa() -> tuple[Desa, ...]:
    """Every desa and kelurahan of North Sumatra, in code order."""
    out = []
    for row in _rows(_DESA_FILE):
        kind = row["kind"].strip()
        if kind not in ("desa", "kelurahan"):
            raise ValueError(f"{_DESA_FILE}: unknown kind {kind!r} for {row['desa_code']}")
        out.append(
            Desa(
                code=row["desa_code"].strip(),
                kecamatan_code=row["kecamatan_code"].strip(),
                regency_code=row["regency_code"].strip(),
                kind=cast(Literal["desa", "kelurahan"], kind),
                name=row["name"].strip(),
            )
        )
    return tuple(out)


def _rows(name: str) -> list[dict[str, str]]:
    text = files(__package__ or "libs.regions").joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@cache
def _kecamatan_by_code() -> dict[str, Kecamatan]:
    return {k.code: k for k in all_kecamatan()}


@cache
def _kecamatan_by_regency() -> dict[str, tuple[Kecamatan, ...]]:
    grouped: defaultdict[str, list[Kecamatan]] = defaultdict(list)
    for k in all_kecamatan():
        grouped[k.regency_code].append(k)
    return {code: tuple(items) for code, items in grouped.items()}


@cache
def _desa_by_kecamatan() -> dict[str, tuple[Desa, ...]]:
    grouped: defaultdict[str, list[Desa]] = defaultdict(list)
    for d in all_desa():
        grouped[d.kecamatan_code].append(d)
    return {code: tuple(items) for code, items in grouped.items()}


@cache
def _desa_by_regency() -> dict[str, tuple[Desa, ...]]:
    grouped: defaultdict[str, list[Desa]] = defaultdict(list)
    for d in all_desa():
        grouped[d.regency_code].append(d)
    return {code: tuple(items) for code, items in grouped.items()}
