"""Programme: one funder's premium-assistance programme, configured by the programme office in YAML.

This model is the single home of the programme settings' defaults (premium, months, deciles, ages,
occupations): they are configuration, so code elsewhere reads them from a `Programme`, never
repeats them.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, Any, Self

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    ValidationInfo,
    field_validator,
    model_validator,
)

from libs.premium_rates import JKK_PER_MONTH, JKM_PER_MONTH, MONTHS_PER_YEAR
from services.allocation.domain.budget import BudgetPosition
from services.allocation.domain.period import Period
from services.allocation.domain.sector import QuotaCell, Sector

PROVINCE_CODE = "12"
"""Kemendagri code of North Sumatra: the jurisdiction of provincial programmes."""

DEFAULT_OCCUPATIONS: tuple[str, ...] = (
    "petani",
    "nelayan",
    "sopir",
    "pemulung",
    "tukang becak",
    "juru parkir",
    "buruh harian lepas",
    "pedagang kaki lima",
    "pedagang keliling",
    "pekerja sosial keagamaan",
    "pekerja sawit",
    "lainnya",
)
"""Occupations eligible by default (Samosir's list); a programme file may replace it."""

_REGENCY_CODE = re.compile(r"^12\.\d{2}$")
_KNOWN_REGENCIES = "known_regencies"

Rupiah = Annotated[StrictInt, Field(gt=0)]
"""Whole rupiah. Strict: a YAML float such as 10000.0 is refused rather than silently truncated."""


class Funder(StrEnum):
    """Who pays the premiums of a programme."""

    APBD_PROVINSI = "APBD_PROVINSI"
    APBD_KABUPATEN = "APBD_KABUPATEN"
    DBH_SAWIT = "DBH_SAWIT"
    SILPA_DBH_SAWIT = "SILPA_DBH_SAWIT"
    OTHER = "OTHER"


class DecreeKind(StrEnum):
    """The instrument fixing the beneficiary list: the governor's decree (SK Gubernur), the
    regent's or mayor's (SK Bupati/Wali Kota), or a regional head's regulation (Peraturan Kepala
    Daerah, Perkada: Pakpak Bharat 2025)."""

    SK_GUBERNUR = "SK_GUBERNUR"
    SK_BUPATI = "SK_BUPATI"
    PERKADA = "PERKADA"


class ProgrammeFileError(ValueError):
    """The programme file is not a YAML mapping, or repeats a key."""


class Quota(BaseModel):
    """Seats for one regency × sector cell."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    regency: str = Field(pattern=_REGENCY_CODE.pattern)
    sector: Sector
    seats: Annotated[StrictInt, Field(ge=0)]

    @property
    def cell(self) -> QuotaCell:
        """The regency × sector this quota is for."""
        return QuotaCell(self.regency, self.sector)


class Programme(BaseModel):
    """A premium-assistance programme: funder, budget, premium, eligibility and quotas.

    Validate through `from_yaml` or `from_mapping`: quotas must name real Kemendagri regency codes,
    and those come from reference data this model does not own.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(pattern=r"^[A-Z0-9]+(?:-[A-Z0-9]+)*$")
    name: str = Field(min_length=1)
    year: Annotated[StrictInt, Field(ge=2000, le=2100)]
    funder: Funder
    jurisdiction: str
    premium_jkk: Rupiah = JKK_PER_MONTH
    premium_jkm: Rupiah = JKM_PER_MONTH
    months: Annotated[StrictInt, Field(ge=1)] = MONTHS_PER_YEAR
    coverage_start: date
    budget_cap: Rupiah
    allowed_deciles: tuple[StrictInt, ...] = (1, 2)
    age_min: Annotated[StrictInt, Field(ge=0, le=120)] = 15
    age_max: Annotated[StrictInt, Field(ge=0, le=120)] = 65
    occupations: tuple[str, ...] = DEFAULT_OCCUPATIONS
    decree_kind: DecreeKind
    # Only decreed assignments go to BPJS; a demo may skip the SK to show one worker end to end.
    requires_decree: bool = True
    # Whether DTKS (or DTSEN) membership alone admits a worker whose P3KE desil is not allowed or
    # who is not in P3KE (Sumut 2025: false, "P3KE desil 1 & 2" only).
    admit_dtks_only: bool = True
    # Refuse a NIK issued in another regency than the nominating one. A NIK never changes when
    # its holder moves, so by default such a worker is accepted with a note for the officer.
    nik_regency_must_match: bool = False
    # Most seated workers per desa/kelurahan (Labuhanbatu 2025: 100); None: no cap. The registry
    # then refuses a desa name it cannot find in the kecamatan.
    village_cap: Annotated[StrictInt, Field(ge=1)] | None = None
    quotas: tuple[Quota, ...] = Field(min_length=1)

    # --- loading -------------------------------------------------------------------------------

    @classmethod
    def from_yaml(cls, text: str, known_regencies: Iterable[str]) -> Programme:
        """Parse and validate a programme file.

        Raises `ProgrammeFileError` when the text is not a YAML mapping (or repeats a key) and
        `pydantic.ValidationError` when a setting is invalid.
        """
        try:
            data = _load_yaml(text)
        except yaml.YAMLError as exc:
            raise ProgrammeFileError(f"not valid YAML: {exc}") from exc
        if not isinstance(data, Mapping):
            raise ProgrammeFileError("a programme file must be a YAML mapping of settings")
        return cls.from_mapping(data, known_regencies)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], known_regencies: Iterable[str]) -> Programme:
        """Validate already-parsed settings against the known Kemendagri regency codes."""
        context = {_KNOWN_REGENCIES: frozenset(known_regencies)}
        return cls.model_validate(dict(data), context=context)

    # --- field rules ---------------------------------------------------------------------------

    @field_validator("coverage_start", mode="before")
    @classmethod
    def _date_only(cls, value: object) -> object:
        # pydantic would read 1735689600 as a Unix time and accept a datetime at midnight;
        # a coverage start is a calendar day, written as one.
        if isinstance(value, datetime) or not isinstance(value, date | str):
            raise ValueError("coverage_start must be a date such as 2025-01-01")
        return value

    @field_validator("allowed_deciles")
    @classmethod
    def _deciles(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if not value:
            raise ValueError("at least one P3KE decile (desil) must be allowed")
        if any(not 1 <= d <= 10 for d in value):
            raise ValueError("deciles (desil) run from 1 to 10")
        if len(set(value)) != len(value):
            raise ValueError("a decile (desil) is listed twice")
        return tuple(sorted(value))

    @field_validator("occupations")
    @classmethod
    def _occupations(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(o.strip() for o in value)
        if not cleaned or any(not o for o in cleaned):
            raise ValueError("occupations must be a non-empty list of non-blank names")
        if len(set(cleaned)) != len(cleaned):
            raise ValueError("an occupation is listed twice")
        return cleaned

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Self:
        known = (info.context or {}).get(_KNOWN_REGENCIES)
        if known is None:
            raise ValueError("known_regencies is required: load with Programme.from_yaml or from_mapping")
        if self.age_min > self.age_max:
            raise ValueError(f"age_min {self.age_min} is above age_max {self.age_max}")
        if self.coverage_start.year != self.year:
            # Budgets are annual (APBD): coverage must start in the programme's budget year.
            raise ValueError(f"coverage_start {self.coverage_start} is not in year {self.year}")
        if self.coverage_end.year != self.year:
            # ... and end in it: months past 31 December need next year's budget, so a programme
            # running on is defined once per fiscal year (one file each).
            last = 13 - self.coverage_start.month
            raise ValueError(
                f"coverage from {self.coverage_start} for {self.months} months ends on "
                f"{self.coverage_end}, past 31 December {self.year}: a programme covers one fiscal "
                f"year; set months to at most {last} and define the rest as next year's programme"
            )
        self._check_jurisdiction(known)
        self._check_quotas(known)
        return self

    def _check_jurisdiction(self, known: frozenset[str]) -> None:
        if self.jurisdiction == PROVINCE_CODE:
            if self.funder is Funder.APBD_KABUPATEN:
                raise ValueError("a provincial programme cannot be funded by APBD_KABUPATEN")
            if self.decree_kind is DecreeKind.SK_BUPATI:
                raise ValueError("a provincial programme is fixed by SK_GUBERNUR (or a PERKADA)")
            return
        if self.jurisdiction not in known:
            raise ValueError(
                f"jurisdiction {self.jurisdiction!r} is neither the province {PROVINCE_CODE!r} "
                "nor a known Kemendagri regency code"
            )
        if self.funder is Funder.APBD_PROVINSI:
            raise ValueError("a regency programme cannot be funded by APBD_PROVINSI")
        if self.decree_kind is DecreeKind.SK_GUBERNUR:
            raise ValueError("a regency programme is fixed by SK_BUPATI (or a PERKADA)")

    def _check_quotas(self, known: frozenset[str]) -> None:
        seen: set[QuotaCell] = set()
        for quota in self.quotas:
            if quota.regency not in known:
                raise ValueError(f"quota regency {quota.regency!r} is not a known Kemendagri code")
            if self.jurisdiction != PROVINCE_CODE and quota.regency != self.jurisdiction:
                raise ValueError(f"quota regency {quota.regency} is outside jurisdiction {self.jurisdiction}")
            if quota.cell in seen:
                raise ValueError(f"duplicate quota for {quota.regency} {quota.sector.value}")
            seen.add(quota.cell)

    # --- derived values ------------------------------------------------------------------------

    @property
    def premium_per_month(self) -> int:
        """Monthly premium per worker: JKK + JKM."""
        return self.premium_jkk + self.premium_jkm

    @property
    def cost_per_worker(self) -> int:
        """What one worker costs the programme over its covered months."""
        return self.premium_per_month * self.months

    @property
    def coverage_end(self) -> date:
        """Last day of the last covered month.

        The month of `coverage_start` counts as the first covered month, since premiums are paid
        per calendar month: 12 months from 2025-01-01 (or 2025-01-15) end on 2025-12-31.
        """
        year, month0 = divmod(self.coverage_start.month - 1 + self.months - 1, 12)
        year += self.coverage_start.year
        return date(year, month0 + 1, calendar.monthrange(year, month0 + 1)[1])

    @property
    def period(self) -> Period:
        """The covered days, `coverage_start` to `coverage_end` inclusive."""
        return Period(self.coverage_start, self.coverage_end)

    def overlaps(self, other: Programme) -> bool:
        """True when this programme covers at least one day the other also covers."""
        return self.period.overlaps(other.period)

    @property
    def seats_total(self) -> int:
        """Seats over all regencies and sectors."""
        return sum(q.seats for q in self.quotas)

    def seats_by_cell(self) -> dict[QuotaCell, int]:
        """Seats per regency × sector."""
        return {q.cell: q.seats for q in self.quotas}

    def seats_by_sector(self) -> dict[Sector, int]:
        """Seats per sector over all regencies (0 for a sector without quota)."""
        totals = dict.fromkeys(Sector, 0)
        for q in self.quotas:
            totals[q.sector] += q.seats
        return totals

    def budget_position(self, committed_workers: int = 0) -> BudgetPosition:
        """The budget cap against this programme's quota and `committed_workers` assigned."""
        return BudgetPosition(
            cap=self.budget_cap,
            cost_per_worker=self.cost_per_worker,
            seats_total=self.seats_total,
            committed_workers=committed_workers,
        )


def _load_yaml(text: str) -> object:
    """Safe-load YAML, refusing repeated keys: PyYAML silently keeps the last one, and a second
    `budget_cap:` further down a file must not quietly replace the first."""
    _refuse_repeated_keys(yaml.compose(text, Loader=yaml.SafeLoader))
    data: object = yaml.safe_load(text)
    return data


def _refuse_repeated_keys(node: object) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[tuple[str, str]] = set()
        for key_node, value_node in node.value:
            key = (str(key_node.tag), str(key_node.value))
            if isinstance(key_node, yaml.ScalarNode) and key in seen:
                raise ProgrammeFileError(f"key {key[1]!r} appears twice ({key_node.start_mark})")
            seen.add(key)
            _refuse_repeated_keys(value_node)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _refuse_repeated_keys(item)
