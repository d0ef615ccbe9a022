"""Defining a programme: the programme office's settings become a ProgrammeDefined event."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from libs.events.contracts.allocation import ProgrammeDefined, QuotaCell
from libs.events.contracts.common import Funder
from libs.eventstore.store import EventStore
from libs.regions import all_regions
from services.allocation.adapters.tables import programmes
from services.allocation.application.quota_stream import stream_of
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


class ProgrammeBook:
    """Programme facts read from the read model once, then kept (they are immutable)."""

    def __init__(self) -> None:
        self._known: dict[str, ProgrammeFacts] = {}

    async def get(self, conn: AsyncConnection, code: str) -> ProgrammeFacts:
        """The facts of programme `code`; raises ProgrammeNotDefined."""
        known = self._known.get(code)
        if known is not None:
            return known
        row = (await conn.execute(select(programmes).where(programmes.c.programme_code == code))).first()
        if row is None:
            raise ProgrammeNotDefined(code)
        definition = row.definition
        facts = ProgrammeFacts(
            code=row.programme_code,
            name=row.name,
            year=row.year,
            funder=Funder(row.funder),
            jurisdiction=row.jurisdiction,
            coverage_start=row.coverage_start,
            coverage_end=row.coverage_end,
            premium_per_month=int(definition["premium_jkk"]) + int(definition["premium_jkm"]),
            months=int(definition["months"]),
            requires_decree=row.requires_decree,
            recorded_decree_kind=definition.get("decree_kind"),
        )
        self._known[code] = facts
        return facts


class ProgrammeAlreadyDefined(ValueError):
    """Changing a defined programme goes through quota changes and decree revisions, not redefinition."""

    code = "PROGRAMME_ALREADY_DEFINED"


def parse_programme(data: Mapping[str, Any]) -> Programme:
    """Validate a programme mapping (from YAML or JSON) against the region table."""
    return Programme.from_mapping(data, [r.kemendagri_code for r in all_regions()])


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


async def define_programme(engine: AsyncEngine, store: EventStore, programme: Programme) -> bool:
    """Record the programme; False when the identical definition exists already (idempotent)."""
    event = programme_defined(programme)
    async with engine.begin() as conn:
        existing = await store.load(conn, stream_of(programme.code))
        if existing:
            if existing[0].payload == event.model_dump(mode="json"):
                return False
            raise ProgrammeAlreadyDefined(
                f"Program {programme.code} sudah ditetapkan; perubahan kuota memakai perubahan SK."
            )
        await store.append(
            conn, stream_of(programme.code), [event], expected_version=0, correlation_id=uuid.uuid4()
        )
    return True
