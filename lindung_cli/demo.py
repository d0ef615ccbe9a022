"""Demo data loaded by `lindung up`: the demo programme and a P3KE extract that knows its workers.

The full province-year generator (`lindung demo generate`) grows from this; the example worker
below is the one the README's curl command nominates.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

from libs.regions import all_regions

EXAMPLE_WORKER = {
    "programme_code": "DEMO-SUMUT-2026",
    "nik": "1217054507880001",
    "full_name": "Rosmawati Sinaga",
    "birth_date": "1988-07-05",
    "sex": "P",
    "occupation": "petani",
    "regency_code": "12.17",
    "kecamatan": "Pangururan",
    "desa": "Lumban Suhi Suhi",
    "sector": "non_sawit",
}


def demo_programme_path() -> Path:
    """The YAML of the demo programme (in docs/examples beside the package, or the repo)."""
    repo = Path(__file__).resolve().parent.parent / "docs" / "examples" / "demo-sumut-2026.yaml"
    if repo.exists():
        return repo
    return Path(str(resources.files("lindung_cli") / "demo-sumut-2026.yaml"))


def make_nik(regency_code: str, subdistrict: int, birth: date, sex: str, serial: int) -> str:
    """A NIK with the structure the civil registry uses (women's birth day + 40)."""
    day = birth.day + (40 if sex == "P" else 0)
    birth_part = f"{day:02d}{birth.month:02d}{birth.year % 100:02d}"
    return f"{regency_code.replace('.', '')}{subdistrict:02d}{birth_part}{serial:04d}"


def p3ke_extract(seed: int, workers: int) -> str:
    """A deterministic P3KE extract (CSV: nik,desil) including the example worker."""
    rng = random.Random(seed)
    regencies = [r.kemendagri_code for r in all_regions()]
    lines = ["nik,desil", f"{EXAMPLE_WORKER['nik']},1"]
    for serial in range(1, workers + 1):
        birth = date(1962, 1, 1) + timedelta(days=rng.randrange(0, 365 * 42))
        nik = make_nik(rng.choice(regencies), rng.randint(1, 20), birth, rng.choice("LP"), serial)
        lines.append(f"{nik},{rng.choice((1, 1, 2, 2, 3, 4))}")
    return "\n".join(lines) + "\n"
