"""What validating a nomination works on: the nomination, the facts looked up for its NIK, and
the programme's settings. Plain data, no behaviour beyond self-consistency checks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

SECTORS = frozenset({"sawit", "non_sawit"})
"""Quota sectors: palm-oil (DBH Sawit regencies) and the rest."""


class PovertySource(StrEnum):
    """The reference data set that established a worker as poor or vulnerable."""

    P3KE = "P3KE"  # Pensasaran Percepatan Penghapusan Kemiskinan Ekstrem, ranked by desil
    DTKS = "DTKS"  # Data Terpadu Kesejahteraan Sosial (Ministry of Social Affairs)


@dataclass(frozen=True, slots=True)
class NominationInput:
    """One worker as proposed by a regency's labour office (one row of an upload).

    ``sex`` and ``sector`` stay plain strings: they arrive from CSV files and forms, and a wrong
    value must come back to the officer as a rejection, not fail in the adapter.
    """

    nik: str
    full_name: str
    birth_date: date
    sex: str  # "L" (laki-laki) / "P" (perempuan)
    occupation: str  # pekerjaan, as written by the officer
    regency_code: str  # nominating kabupaten/kota, Kemendagri "12.xx"
    kecamatan: str
    desa: str  # desa or kelurahan
    address: str
    phone: str | None
    sector: str  # "sawit" / "non_sawit"
    desil: int | None  # as stated by the officer; the P3KE extract decides, not this
    funder: str  # e.g. "APBD Provinsi", "APBD Kabupaten", "DBH Sawit"
    period_start: date  # programme period, both ends inclusive
    period_end: date


@dataclass(frozen=True, slots=True)
class ExistingNomination:
    """An earlier nomination of the same NIK, by any regency and funder."""

    nomination_id: str
    regency_code: str  # Kemendagri "12.xx"
    funder: str
    period_start: date  # inclusive
    period_end: date  # inclusive
    programme_code: str = ""  # the programme it was made for, and its name (ProgrammeDefined)
    programme_name: str = ""


@dataclass(frozen=True, slots=True)
class ValidationPolicy:
    """The programme's settings. No defaults here: they live in configuration (DOMAIN.md), the
    programme file, published in ProgrammeDefined."""

    coverage_start: date
    age_min: int  # inclusive, in whole years at coverage_start
    age_max: int  # inclusive
    allowed_deciles: frozenset[int]  # P3KE desil admitted, e.g. {1, 2}
    occupations: frozenset[str]  # matched by kind of work (domain/occupations.py)
    nik_regency_must_match: bool  # reject when the NIK was issued in another regency (else a note)
    admit_dtks_only: bool  # DTKS (DTSEN) membership alone admits a worker
    jurisdiction: str  # "12" (the province: every regency) or one regency's code, "12.17"
    seated_cells: frozenset[tuple[str, str]]  # (regency code, sector) with seats in the quota
    village_cap: int | None  # most seats per desa/kelurahan; set: the desa must be on the list

    def __post_init__(self) -> None:
        if self.age_min > self.age_max:
            raise ValueError(f"age_min {self.age_min} is above age_max {self.age_max}")


@dataclass(frozen=True, slots=True)
class ValidationContext:
    """Facts the caller looked up for the nomination's NIK before validating it.

    ``existing_nominations`` must exclude the nomination being validated and come oldest
    first: a duplicate is reported against the first one that overlaps.
    ``active_bpjs_kpj`` is the KPJ of a BPJS Ketenagakerjaan participation active at coverage
    start, or None.
    """

    p3ke_desil: int | None  # None: the NIK is not in the P3KE extract
    in_dtks: bool
    existing_nominations: Sequence[ExistingNomination]
    active_bpjs_kpj: str | None
