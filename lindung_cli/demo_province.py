"""The province-year demo (`lindung demo generate`): every regency's nomination list, about 1.2 x
its quota, with the defects officers make at documented rates, the P3KE extract that knows the
true people, and a manifest; and the single big list used to measure the upload rate."""

from __future__ import annotations

import csv
import io
import json
import random
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from libs.nik import compose_nik
from libs.regions import desa_of_regency, kecamatan_by_code, kecamatan_of_regency
from lindung_cli.demo_names import FAMILY, HEADER_STYLES, MEN, OCCUPATIONS_OTHER, OCCUPATIONS_SAWIT, WOMEN
from lindung_cli.demo_programme import (
    COVERAGE_START,
    DEMO_PROGRAMME,
    EXAMPLE_WORKER,
    OTHER_FUNDER_PROGRAMME,
    demo_programme_path,
    examples_dir,
    read_quotas,
)

NOMINATION_FACTOR = 1.2  # regencies propose about 1.2 x their quota

# Rates of each defect among the province's nomination rows (documented in docs/registry.md).
DEFECT_RATES: dict[str, float] = {
    "bad_nik": 0.02,  # NIK mistyped: a digit missing, Excel's "1.21705E+15", letter O for 0, kecamatan 00
    "birthdate_mismatch": 0.02,  # stated birth date differs from the NIK (day/month swapped, year off)
    "duplicate_other_regency": 0.01,  # the same worker also in another regency's list
    "duplicate_other_funder": 0.005,  # the same worker also in Samosir's own programme (APBD Kabupaten)
    "decile_3_4": 0.05,  # in P3KE, but at desil 3 or 4
    "out_of_age": 0.01,  # younger than 15 or older than 65 on 1 January 2026
}
# What each defect is answered with (a row may carry more reasons, e.g. NOT_IN_P3KE_OR_DTKS).
DEFECT_OUTCOMES: dict[str, str] = {
    "bad_nik": "invalid NIK_FORMAT, or rejected NIK_SUBDISTRICT_ZERO",
    "birthdate_mismatch": "rejected NIK_BIRTHDATE_MISMATCH",
    # A NIK issued elsewhere is a note, not a refusal (unless a programme requires a match): the
    # copy decided second is rejected DUPLICATE_NOMINATION, the first carries NIK_ISSUED_ELSEWHERE.
    "duplicate_other_regency": "rejected DUPLICATE_NOMINATION (whichever copy is decided second)",
    # One payer per worker: only a nomination pending or holding a seat keeps the worker.
    "duplicate_other_funder": "rejected DUPLICATE_NOMINATION (the row in SAMOSIR-2026's list) while "
    "the province's nomination is pending or seated; accepted if the province only waitlisted them",
    "decile_3_4": "rejected DECILE_NOT_ALLOWED",
    "out_of_age": "rejected AGE_BELOW_MIN or AGE_ABOVE_MAX",
}


@dataclass
class DemoPerson:
    nik: str  # the true NIK (in the P3KE extract)
    name: str
    birth: date
    sex: str
    regency: str
    sector: str
    occupation: str
    kecamatan: str
    desa: str
    address: str
    phone: str
    desil: int
    # What the officer wrote (differs from the truth for defective rows).
    stated_nik: str = ""
    stated_birth: date | None = None
    defect: str = ""


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.used = {str(EXAMPLE_WORKER["nik"])}

    def nik(self, regency: str, birth: date, sex: str) -> tuple[str, int]:
        # A kecamatan the regency has: the registry refuses a NIK naming one it does not.
        kecamatan = [int(k.code[-2:]) for k in kecamatan_of_regency(regency)]
        while True:
            subdistrict = self.rng.choice(kecamatan)
            nik = compose_nik(regency, subdistrict, birth, sex, self.rng.randint(1, 9999))
            if nik not in self.used:
                self.used.add(nik)
                return nik, subdistrict

    def kecamatan_desa(self, regency: str) -> tuple[str, str]:
        # Real places (the registry looks kecamatan and desa up in the Kemendagri lists).
        desa = self.rng.choice(desa_of_regency(regency))
        kecamatan = kecamatan_by_code(desa.kecamatan_code)
        assert kecamatan is not None
        return kecamatan.name, desa.name

    def person(self, regency: str, sector: str, *, age: tuple[int, int] = (18, 62)) -> DemoPerson:
        rng = self.rng
        sex = rng.choice("LP")
        latest = date(COVERAGE_START.year - age[0], 1, 1) - timedelta(days=1)
        birth = latest - timedelta(days=rng.randrange(0, 365 * (age[1] - age[0])))
        nik, _ = self.nik(regency, birth, sex)
        first = rng.choice(MEN if sex == "L" else WOMEN)
        name = f"{first} {rng.choice(FAMILY)}".strip()
        kecamatan, desa = self.kecamatan_desa(regency)
        occupation = rng.choice(OCCUPATIONS_SAWIT if sector == "sawit" else OCCUPATIONS_OTHER)
        phone = f"08{rng.choice((11, 12, 13, 21, 52, 53, 77, 81, 95))}{rng.randrange(10**7, 10**8)}"
        return DemoPerson(
            nik, name, birth, sex, regency, sector, occupation, kecamatan, desa,
            f"Dusun {rng.randint(1, 9)}, {desa}", phone if rng.random() < 0.7 else "", rng.choice((1, 1, 2)),
            stated_nik=nik, stated_birth=birth,
        )  # fmt: skip


def _garble_nik(rng: random.Random, nik: str) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        cut = rng.randrange(16)
        return nik[:cut] + nik[cut + 1 :]  # a digit missing
    if kind == 1:
        return f"{int(nik[:6]) / 10**5:.5f}".rstrip("0").replace(".", ",") + "E+15"  # Excel ate it
    if kind == 2:
        zeros = [i for i, c in enumerate(nik) if c == "0"] or [15]
        i = rng.choice(zeros)
        return nik[:i] + "O" + nik[i + 1 :]  # letter O for zero
    return nik[:4] + "00" + nik[6:]  # kecamatan 00


def _shift_birth(rng: random.Random, birth: date) -> date:
    if birth.day <= 12 and birth.day != birth.month:
        return date(birth.year, birth.day, birth.month)  # day and month swapped
    return birth.replace(year=birth.year + rng.choice((-1, 1)), day=min(birth.day, 28))


def generate_demo(seed: int, out: Path, *, quota_path: Path | None = None) -> dict[str, Any]:
    """Write a deterministic province-year into `out`; returns (and writes) its manifest.

    `out/programmes/*.yaml` (the demo programme and Samosir's), `out/p3ke.csv` (nik,desil) and
    `out/nominations/<PROGRAMME>/<regency>.csv`, about 1.2 x the quota of every regency and sector
    of `quota_path` (sumut-2025.yaml), with the defects of DEFECT_RATES at those rates.
    """
    quotas = read_quotas(quota_path or examples_dir() / "sumut-2025.yaml")
    gen = _Generator(seed)
    rng = gen.rng
    lists: dict[str, list[DemoPerson]] = {}
    for regency, sector, seats in quotas:
        lists.setdefault(regency, []).extend(
            gen.person(regency, sector) for _ in range(round(seats * NOMINATION_FACTOR))
        )
    rows = [p for regency in sorted(lists) for p in lists[regency]]
    total = len(rows)
    counts = {name: round(rate * total) for name, rate in DEFECT_RATES.items()}
    samosir = lists["12.17"]
    funder_dups = rng.sample(samosir, min(counts["duplicate_other_funder"], len(samosir)))
    for person in funder_dups:
        person.defect = "duplicate_other_funder"
    candidates = [p for p in rows if p not in funder_dups]
    rng.shuffle(candidates)
    cursor = 0
    for defect in ("bad_nik", "birthdate_mismatch", "decile_3_4", "out_of_age", "duplicate_other_regency"):
        for person in candidates[cursor : cursor + counts[defect]]:
            person.defect = defect
            if defect == "bad_nik":
                person.stated_nik = _garble_nik(rng, person.nik)
            elif defect == "birthdate_mismatch":
                person.stated_birth = _shift_birth(rng, person.birth)
            elif defect == "decile_3_4":
                person.desil = rng.choice((3, 4))
        cursor += counts[defect]
    for person in [p for p in rows if p.defect == "out_of_age"]:
        # Replace the worker by one outside the ages (the NIK agrees with the stated birth date).
        young = rng.random() < 0.4
        other = gen.person(person.regency, person.sector, age=(12, 15) if young else (66, 76))
        other.defect = "out_of_age"
        lists[person.regency][lists[person.regency].index(person)] = other
    # A worker copied into another regency's list: replaces one of that list's own rows.
    regencies = sorted(lists)
    for person in [
        p for regency in regencies for p in lists[regency] if p.defect == "duplicate_other_regency"
    ]:
        target = rng.choice([r for r in regencies if r != person.regency])
        slot = rng.choice([i for i, p in enumerate(lists[target]) if not p.defect])
        replaced = lists[target][slot]
        lists[target][slot] = DemoPerson(
            **{
                **person.__dict__,
                "regency": target,
                "sector": replaced.sector,
                # Listed where they live now: that regency's places, their NIK from home.
                "kecamatan": replaced.kecamatan,
                "desa": replaced.desa,
                "address": replaced.address,
                "defect": "duplicate_other_regency",
            }
        )
        person.defect = ""  # the original stays a clean row of its own regency
    samosir_own = [gen.person("12.17", "non_sawit") for _ in range(len(funder_dups))]
    return _write_demo(seed, out, lists, funder_dups, samosir_own, total)


def _write_demo(
    seed: int,
    out: Path,
    lists: dict[str, list[DemoPerson]],
    funder_dups: list[DemoPerson],
    samosir_own: list[DemoPerson],
    province_rows: int,
) -> dict[str, Any]:
    (out / "programmes").mkdir(parents=True, exist_ok=True)
    (out / "programmes" / f"{DEMO_PROGRAMME}.yaml").write_bytes(demo_programme_path().read_bytes())
    (out / "programmes" / f"{OTHER_FUNDER_PROGRAMME}.yaml").write_bytes(
        (examples_dir() / "samosir-2026.yaml").read_bytes()
    )
    files: dict[str, int] = {}
    for index, regency in enumerate(sorted(lists)):
        path = out / "nominations" / DEMO_PROGRAMME / f"{regency}.csv"
        files[str(path.relative_to(out))] = _write_list(path, lists[regency], HEADER_STYLES[index % 3])
    path = out / "nominations" / OTHER_FUNDER_PROGRAMME / "12.17.csv"
    samosir_rows = [*funder_dups, *samosir_own]
    files[str(path.relative_to(out))] = _write_list(path, samosir_rows, HEADER_STYLES[0])
    # The P3KE extract: every real person nominated (true NIKs), others of the same villages, and
    # the example worker of the README.
    people = {p.nik: p.desil for regency in sorted(lists) for p in lists[regency]}
    people.update({p.nik: p.desil for p in samosir_own})
    filler = _Generator(seed + 1)
    filler.used |= set(people)
    regency_codes = sorted(lists)
    for _ in range(province_rows // 5):
        extra = filler.person(filler.rng.choice(regency_codes), "non_sawit")
        people[extra.nik] = filler.rng.choice((1, 2, 2, 3, 4, 5))
    lines = ["nik,desil", f"{EXAMPLE_WORKER['nik']},1"] + [f"{nik},{desil}" for nik, desil in people.items()]
    (out / "p3ke.csv").write_text("\n".join(lines) + "\n")
    defects = Counter(p.defect for regency in sorted(lists) for p in lists[regency] if p.defect)
    manifest = {
        "seed": seed,
        "programmes": [DEMO_PROGRAMME, OTHER_FUNDER_PROGRAMME],
        "province_rows": province_rows,
        "rows": sum(files.values()),
        "p3ke_rows": len(lines) - 1,
        "files": files,
        "defects": {name: defects.get(name, 0) for name in DEFECT_RATES},
        "rates": DEFECT_RATES,
        "expected": DEFECT_OUTCOMES,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    return manifest


def _write_list(
    path: Path, people: list[DemoPerson], style: tuple[str, tuple[str, ...], str, tuple[str, str]]
) -> int:
    separator, headers, date_format, sex_words = style
    path.parent.mkdir(parents=True, exist_ok=True)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow(headers)
    for p in people:
        birth = p.stated_birth or p.birth
        writer.writerow(
            [
                p.stated_nik or p.nik,
                p.name,
                birth.strftime(date_format),
                sex_words[0] if p.sex == "L" else sex_words[1],
                p.occupation,
                p.kecamatan,
                p.desa,
                p.address,
                p.phone,
                "sawit" if p.sector == "sawit" else "non sawit",
                str(p.desil) if p.desil <= 2 else "",  # officers seldom know a desil above 2
            ]
        )
    path.write_text(buffer.getvalue(), encoding="utf-8")
    return len(people)


def generate_single_list(seed: int, rows: int, regency: str, out: Path) -> tuple[Path, Path]:
    """One regency's list of `rows` clean nominations and a P3KE extract holding them (and the
    example worker): the 25,000-row import used to measure the upload rate."""
    gen = _Generator(seed)
    sector = (
        "sawit"
        if regency in {r for r, s, _ in read_quotas(demo_programme_path()) if s == "sawit"}
        else "non_sawit"
    )
    people = [gen.person(regency, sector) for _ in range(rows)]
    out.mkdir(parents=True, exist_ok=True)
    listing = out / f"{regency}-{rows}.csv"
    _write_list(listing, people, HEADER_STYLES[0])
    p3ke = out / f"p3ke-{regency}-{rows}.csv"
    lines = ["nik,desil", f"{EXAMPLE_WORKER['nik']},1", *(f"{p.nik},{p.desil}" for p in people)]
    p3ke.write_text("\n".join(lines) + "\n")
    return listing, p3ke
