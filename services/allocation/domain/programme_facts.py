"""What never changes once a programme is defined, as its ProgrammeDefined event says, and the
event a programme file becomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from libs.events.contracts.allocation import ProgrammeDefined, QuotaCell
from libs.events.contracts.common import Funder
from services.allocation.domain.decree import decree_kind_of
from services.allocation.domain.period import Period
from services.allocation.domain.programme import DecreeKind, Programme


class ProgrammeNotDefined(LookupError):
    """An event or a request names a programme allocation has never defined."""

    code = "PROGRAMME_UNKNOWN"

    def __init__(self, programme_code: str) -> None:
        super().__init__(programme_code)
        self.programme_code = programme_code
        self.message = f"Program {programme_code} tidak dikenal atau belum ditetapkan."


class ProgrammeAlreadyDefined(ValueError):
    """Changing a defined programme goes through quota changes and decree revisions, not redefinition."""

    code = "PROGRAMME_ALREADY_DEFINED"


@dataclass(frozen=True, slots=True)
class ProgrammeFacts:
    """What never changes once a programme is defined (seats and budget live in its quota state)."""

    code: str
    name: str
    year: int
    funder: Funder
    jurisdiction: str
    coverage_start: date
    coverage_end: date
    premium_per_month: int
    months: int
    requires_decree: bool
    # As the definition says (None in definitions written before 2026-12): see `decree_kind`.
    recorded_decree_kind: str | None = None

    @property
    def decree_kind(self) -> DecreeKind:
        """The kind of instrument every decree of the programme is."""
        return decree_kind_of(self.recorded_decree_kind, self.jurisdiction)

    @property
    def cost_per_worker(self) -> int:
        """Premium per month × months, in whole rupiah."""
        return self.premium_per_month * self.months

    @property
    def period(self) -> Period:
        """The covered days."""
        return Period(self.coverage_start, self.coverage_end)


def facts_of(event: ProgrammeDefined) -> ProgrammeFacts:
    """The facts a programme's definition fixes."""
    return ProgrammeFacts(
        code=event.programme_code,
        name=event.name,
        year=event.year,
        funder=Funder(event.funder),
        jurisdiction=event.jurisdiction,
        coverage_start=event.coverage_start,
        coverage_end=event.coverage_end,
        premium_per_month=event.premium_jkk + event.premium_jkm,
        months=event.months,
        requires_decree=event.requires_decree,
        recorded_decree_kind=event.decree_kind,
    )


def programme_defined(programme: Programme) -> ProgrammeDefined:
    """The event that publishes a programme's settings to every service."""
    return ProgrammeDefined(
        programme_code=programme.code,
        name=programme.name,
        year=programme.year,
        funder=Funder(programme.funder.value),
        jurisdiction=programme.jurisdiction,
        premium_jkk=programme.premium_jkk,
        premium_jkm=programme.premium_jkm,
        months=programme.months,
        coverage_start=programme.coverage_start,
        coverage_end=programme.coverage_end,
        budget_cap=programme.budget_cap,
        allowed_deciles=list(programme.allowed_deciles),
        age_min=programme.age_min,
        age_max=programme.age_max,
        occupations=list(programme.occupations),
        requires_decree=programme.requires_decree,
        decree_kind=programme.decree_kind.value,
        admit_dtks_only=programme.admit_dtks_only,
        nik_regency_must_match=programme.nik_regency_must_match,
        village_cap=programme.village_cap,
        quotas=[
            QuotaCell(regency_code=q.regency, sector=q.sector.value, seats=q.seats) for q in programme.quotas
        ],
    )
