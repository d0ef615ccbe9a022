"""The pipeline benchmark's workers: valid, unique and deterministic, so every one gets a seat.

Worker `i` of run `seed` is a pure function of (seed, i): the NIK encodes the regency of its quota
cell, a sub-district, the birth date (women: day + 40) and a serial, and no two (seed, i) give the
same NIK (see `_nik_parts`), so runs with different seeds on one stack never nominate a person
twice. The bench programme has exactly as many seats and as much budget as the run has workers,
does not wait for a decree, and the P3KE extract lists every worker at desil 1 or 2.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property

from libs.events.contracts.registry import NominationSubmitted
from libs.events.envelope import Envelope
from libs.nik import compose_nik
from libs.premium_rates import MONTHS_PER_YEAR, PREMIUM_PER_MONTH
from libs.regions import desa_of_kecamatan, kecamatan_of_regency
from lindung_cli.demo import (
    FAMILY,
    HEADER_STYLES,
    MEN,
    OCCUPATIONS_OTHER,
    OCCUPATIONS_SAWIT,
    WOMEN,
    demo_programme_path,
    p3ke_extract,
    read_quotas,
)

PREFIX = "BENCH-"
# Room for this many workers per quota cell and run: the NIK space of a run never meets another's.
STRIDE = 1_000_000
SERIALS = 9_999
BORN_FROM = date(1966, 1, 1)  # plus a few days per run: working age (15-65) for years to come


def programme_code(seed: int) -> str:
    return f"{PREFIX}{seed:04d}"


def next_seed(existing_codes: list[str]) -> int:
    """One more than the highest bench programme on the stack (1 on a fresh one)."""
    seeds = [
        int(c[len(PREFIX) :]) for c in existing_codes if c.startswith(PREFIX) and c[len(PREFIX) :].isdigit()
    ]
    return max(seeds, default=0) + 1


def shares(workers: int, programmes: int) -> list[int]:
    """`workers` split into `programmes` near-equal parts, the first ones one larger when it does
    not divide (126,000 in 6: 21,000 each, about a province-year)."""
    if not 1 <= programmes <= max(1, workers):
        raise ValueError(f"cannot split {workers} workers into {programmes} programmes")
    each, rest = divmod(workers, programmes)
    return [each + (1 if k < rest else 0) for k in range(programmes)]


def p3ke_csv_of(workloads: Sequence[Workload]) -> bytes:
    """One P3KE extract listing every worker (desil 1 or 2) of `workloads`, plus the demo extract
    `lindung up` loads, so a demo stack's own workers stay known to the registry. One for all the
    run's programmes: an import replaces the registry's current extract, so an extract per
    programme would drop the workers of the programmes before it."""
    demo = p3ke_extract(seed=2026, workers=2000).rstrip("\n")
    lines = [demo, *(f"{w.nik},{w.decile}" for workload in workloads for w in workload.all())]
    return ("\n".join(lines) + "\n").encode()


@dataclass(frozen=True)
class BenchWorker:
    index: int
    nik: str
    full_name: str
    birth_date: date
    sex: str
    regency: str
    sector: str
    occupation: str
    decile: int
    kecamatan: str
    desa: str

    @property
    def source_ref(self) -> str:
        return f"bench-{self.index}"


@dataclass(frozen=True)
class Workload:
    """`workers` nominations for the programme of run `seed`, spread round-robin over quota cells."""

    seed: int
    workers: int
    year: int

    @cached_property
    def cells(self) -> tuple[tuple[str, str], ...]:
        """One (regency, sector) per regency, as in the demo programme: the whole province."""
        sector_of: dict[str, str] = {}
        for regency, sector, _ in read_quotas(demo_programme_path()):
            sector_of.setdefault(regency, sector)
        return tuple(sector_of.items())

    @property
    def programme_code(self) -> str:
        return programme_code(self.seed)

    def worker(self, index: int) -> BenchWorker:
        regency, sector = self.cells[index % len(self.cells)]
        # Real places: the registry refuses a kecamatan (of the NIK or the form) its regency lacks.
        places = kecamatan_of_regency(regency)
        place, birth, serial = _nik_parts(self.seed, index // len(self.cells), len(places))
        kecamatan = places[place]
        villages = desa_of_kecamatan(kecamatan.code)
        sex = "P" if index % 2 else "L"
        nik = compose_nik(regency, int(kecamatan.code[-2:]), birth, sex, serial)
        first = (WOMEN if sex == "P" else MEN)[index % len(WOMEN if sex == "P" else MEN)]
        occupations = OCCUPATIONS_SAWIT if sector == "sawit" else OCCUPATIONS_OTHER
        return BenchWorker(
            index=index,
            nik=nik,
            full_name=f"{first} {FAMILY[index % (len(FAMILY) - 1)]}",
            birth_date=birth,
            sex=sex,
            regency=regency,
            sector=sector,
            occupation=occupations[index % len(occupations)],
            decile=1 + index % 2,
            kecamatan=kecamatan.name,
            desa=villages[serial % len(villages)].name,
        )

    def all(self) -> Iterator[BenchWorker]:
        return (self.worker(i) for i in range(self.workers))

    def seats(self) -> Counter[tuple[str, str]]:
        """Workers per quota cell (the programme's seats: exactly enough)."""
        per_cell, rest = divmod(self.workers, len(self.cells))
        return Counter({cell: per_cell + (1 if i < rest else 0) for i, cell in enumerate(self.cells)})

    def programme_yaml(self, cost_per_worker: int = PREMIUM_PER_MONTH * MONTHS_PER_YEAR) -> str:
        cells = [(cell, n) for cell, n in self.seats().items() if n > 0]
        lines = [
            f"code: {self.programme_code}",
            f'name: "Bench pipeline run {self.seed} ({self.workers} pekerja)"',
            f"year: {self.year}",
            "funder: APBD_PROVINSI",
            'jurisdiction: "12"',
            f"coverage_start: {date(self.year, 1, 1).isoformat()}",
            f"budget_cap: {self.workers * cost_per_worker}",
            "decree_kind: SK_GUBERNUR",
            # A bench worker goes to BPJS on assignment: no decree to wait for.
            "requires_decree: false",
            "quotas:",
        ]
        lines += [f'  - {{regency: "{r}", sector: {s}, seats: {n}}}' for (r, s), n in cells]
        return "\n".join(lines) + "\n"

    def p3ke_csv(self) -> bytes:
        """Every bench worker (desil 1 or 2), plus the demo extract (`p3ke_csv_of`)."""
        return p3ke_csv_of((self,))

    def submitted(self, w: BenchWorker) -> Envelope:
        """The inbound message a regency system publishes for `w` (key: its source_ref)."""
        event = NominationSubmitted(
            programme_code=self.programme_code,
            nik=w.nik,
            full_name=w.full_name,
            birth_date=w.birth_date,
            sex=w.sex,
            occupation=w.occupation,
            regency_code=w.regency,
            kecamatan=w.kecamatan,
            desa=w.desa,
            sector=w.sector,
            decile=w.decile,
            source_ref=w.source_ref,
        )
        return Envelope(
            event_type=event.event_type,
            schema_version=event.schema_version,
            aggregate_id=f"bench-{self.seed}-{w.index}",
            aggregate_version=1,
            correlation_id=uuid.uuid4(),
            producer=f"regency-{w.regency}",
            payload=event.model_dump(mode="json"),
        )

    def upload_files(self, rows_per_file: int) -> Iterator[tuple[str, str, bytes, list[int]]]:
        """(regency, file name, CSV, worker indexes) for every regency, `rows_per_file` rows at most."""
        by_regency: dict[str, list[BenchWorker]] = {}
        for w in self.all():
            by_regency.setdefault(w.regency, []).append(w)
        for regency, people in by_regency.items():
            for part, start in enumerate(range(0, len(people), rows_per_file)):
                chunk = people[start : start + rows_per_file]
                name = f"{self.programme_code}-{regency}-{part + 1}.csv"
                yield regency, name, _csv(chunk), [w.index for w in chunk]


def _nik_parts(seed: int, slot: int, places: int) -> tuple[int, date, int]:
    """(which of the regency's `places` kecamatan, birth date, serial 1-9999): a bijection of
    (seed, slot < STRIDE) for one regency."""
    k = seed * STRIDE + slot
    serial = 1 + k % SERIALS
    k //= SERIALS
    return k % places, BORN_FROM + timedelta(days=k // places), serial


def _csv(people: list[BenchWorker]) -> bytes:
    _, headers, date_format, sex_words = HEADER_STYLES[2]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    for p in people:
        writer.writerow(
            [
                p.nik,
                p.full_name,
                p.birth_date.strftime(date_format),
                sex_words[0] if p.sex == "L" else sex_words[1],
                p.occupation,
                p.kecamatan,
                p.desa,
                "",
                "",
                p.sector,
                str(p.decile),
            ]
        )
    return buffer.getvalue().encode()
