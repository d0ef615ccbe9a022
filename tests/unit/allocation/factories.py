"""Builders for allocation domain tests."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from libs.events.contracts.common import Funder, WorkerIdentity
from libs.events.contracts.registry import WorkerValidated
from services.allocation.domain.programme import Programme
from services.allocation.domain.quota import QuotaState, ValidatedWorker
from services.allocation.domain.quota_events import QuotaEvent, QuotasOpened
from services.allocation.domain.sector import QuotaCell, Sector

# Kemendagri codes of North Sumatra's 33 regencies and cities (data/sumut_regions.csv). Kept here
# so these unit tests do not depend on the registry's reference-data loader; test_programme checks
# they agree with libs.regions when that package is present.
SUMUT_REGENCIES: frozenset[str] = frozenset(
    [f"12.{n:02d}" for n in range(1, 26)] + [f"12.{n}" for n in range(71, 79)]
)

COST = 201_600  # Rp16,800 x 12 months

MEDAN_SAWIT = QuotaCell("12.71", Sector.SAWIT)
MEDAN_NON_SAWIT = QuotaCell("12.71", Sector.NON_SAWIT)
NIAS_NON_SAWIT = QuotaCell("12.04", Sector.NON_SAWIT)


def programme_data(**overrides: Any) -> dict[str, Any]:
    """Settings of a valid small provincial programme, with `overrides` applied."""
    data: dict[str, Any] = {
        "code": "SUMUT-2025",
        "name": "Uji",
        "year": 2025,
        "funder": "APBD_PROVINSI",
        "jurisdiction": "12",
        "coverage_start": "2025-01-01",
        "budget_cap": 100 * COST,
        "decree_kind": "SK_GUBERNUR",
        "quotas": [
            {"regency": "12.71", "sector": "sawit", "seats": 60},
            {"regency": "12.04", "sector": "non_sawit", "seats": 40},
        ],
    }
    data.update(overrides)
    return data


def programme(**overrides: Any) -> Programme:
    """A validated `Programme` from `programme_data(**overrides)`."""
    return Programme.from_mapping(programme_data(**overrides), SUMUT_REGENCIES)


def opened(seats: dict[QuotaCell, int], affordable: int, code: str = "SUMUT-2025") -> QuotaState:
    """A quota state opened with `seats` and a cap paying exactly `affordable` workers."""
    return QuotaState.rebuild([QuotasOpened(code, tuple(seats.items()), affordable * COST, COST)])


def worker(n: int, cell: QuotaCell = MEDAN_SAWIT, desil: int = 1, seq: int | None = None) -> ValidatedWorker:
    """Worker `w{n:04d}` in `cell`, nominated n-th unless `seq` is given."""
    return ValidatedWorker(f"w{n:04d}", cell.regency, cell.sector, desil, n if seq is None else seq)


def apply_all(state: QuotaState, events: Iterable[QuotaEvent]) -> None:
    """Apply decided events in order."""
    for event in events:
        state.apply(event)


T0 = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def validated_event(worker: str, minutes: int, decile: int | None = 1, *, code: str = "P") -> WorkerValidated:
    """The registry's WorkerValidated of `worker` for programme `code` in Medan sawit, nominated
    `minutes` after T0."""
    return WorkerValidated(
        worker_id=worker,
        nomination_id=f"n-{worker}",
        programme_code=code,
        identity=WorkerIdentity(nik="1271010101850001", full_name="X", birth_date="1985-01-01", sex="L"),
        occupation="petani",
        regency_code="12.71",
        sector="sawit",
        decile=decile,
        funder=Funder.APBD_PROVINSI,
        poverty_source="P3KE",
        reference_version="v",
        nominated_at=T0 + timedelta(minutes=minutes),
    )
