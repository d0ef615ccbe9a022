"""The workers of a programme year: plausible and unique (People), and each as the doors take
them (the HTTP/topic form, a regency's upload CSV, the P3KE rows that list them)."""

from __future__ import annotations

import csv
import io
import random
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from libs.nik import compose_nik
from libs.regions import desa_of_regency, kecamatan_of_regency
from lindung_cli.benchmarks.workload import BenchWorker
from lindung_cli.demo_names import FAMILY, HEADER_STYLES, MEN, OCCUPATIONS_OTHER, OCCUPATIONS_SAWIT, WOMEN

Worker = BenchWorker  # a worker as the nominating regency knows them (every field right)


def form(w: Worker, programme: str) -> dict[str, Any]:
    """The nomination of `w` as the HTTP route, the inbound topic (and the upload's columns) take it."""
    return {
        "programme_code": programme,
        "nik": w.nik,
        "full_name": w.full_name,
        "birth_date": w.birth_date.isoformat(),
        "sex": w.sex,
        "occupation": w.occupation,
        "regency_code": w.regency,
        "kecamatan": w.kecamatan,
        "desa": w.desa,
        "sector": w.sector,
        "decile": w.decile,
        "source_ref": w.source_ref,
    }


class People:
    """Plausible, unique workers: NIKs with real kecamatan codes of the regency (libs.regions), a
    village of that kecamatan, the demo's names and occupations. Deterministic per seed."""

    def __init__(self, seed: int, year: int) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.year = year
        self.used: set[str] = set()
        self.count = 0

    def worker(
        self,
        regency: str,
        sector: str,
        *,
        desil: int = 1,
        desa: tuple[str, str] | None = None,
        nik_regency: str | None = None,
    ) -> Worker:
        """A worker living in `regency` (its kecamatan and desa); the NIK issued there, or in
        `nik_regency` (a NIK never changes when its holder moves)."""
        rng = self.rng
        if desa is None:
            kecamatan = rng.choice(kecamatan_of_regency(regency))
            villages = [d for d in desa_of_regency(regency) if d.kecamatan_code == kecamatan.code]
            desa = (kecamatan.name, rng.choice(villages).name if villages else kecamatan.name)
        kecamatan_name, village = desa
        issued = nik_regency or regency
        code = (
            next(k.code for k in kecamatan_of_regency(regency) if k.name == kecamatan_name)
            if nik_regency is None
            else rng.choice(kecamatan_of_regency(nik_regency)).code
        )
        sex = rng.choice("LP")
        while True:
            birth = date(self.year - 60, 1, 1) + timedelta(days=rng.randrange(0, 365 * 38))
            nik = compose_nik(issued, int(code[-2:]), birth, sex, rng.randint(1, 9999))
            if nik not in self.used:
                self.used.add(nik)
                break
        self.count += 1
        first = rng.choice(MEN if sex == "L" else WOMEN)
        occupation = rng.choice(OCCUPATIONS_SAWIT if sector == "sawit" else OCCUPATIONS_OTHER)
        return Worker(
            self.seed * 100_000 + self.count, nik, f"{first} {rng.choice(FAMILY)}".strip(), birth, sex,
            regency, sector, occupation, desil, kecamatan_name, village,
        )  # fmt: skip

    def villages(self, regency: str) -> list[tuple[str, str]]:
        """(kecamatan name, desa name) of every village of the regency, in code order."""
        name = {k.code: k.name for k in kecamatan_of_regency(regency)}
        return [(name[d.kecamatan_code], d.name) for d in desa_of_regency(regency)]


def p3ke_rows(workers: Iterable[Worker]) -> dict[str, int]:
    """The P3KE rows (NIK -> desil) that list `workers`."""
    return {w.nik: w.decile for w in workers}


def upload_csv(people: list[Worker]) -> bytes:
    """A regency's list as its spreadsheet exports it (semicolons, DD-MM-YYYY, Indonesian headers)."""
    separator, headers, date_format, sex_words = HEADER_STYLES[0]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\n")
    writer.writerow(headers)
    for p in people:
        writer.writerow(
            [
                p.nik, p.full_name, p.birth_date.strftime(date_format), sex_words[0 if p.sex == "L" else 1],
                p.occupation, p.kecamatan, p.desa, f"Dusun 1, {p.desa}", "", p.sector, str(p.decile),
            ]
        )  # fmt: skip
    return buffer.getvalue().encode()
