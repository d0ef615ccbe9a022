"""The demo programme (DEMO-SUMUT-2026) `lindung up` loads: its file, its quotas, the day its
stack lives on, the README's example worker and a P3KE extract that knows them."""

from __future__ import annotations

import random
from datetime import date, timedelta
from importlib import resources
from pathlib import Path

import yaml

from libs.nik import compose_nik
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


def p3ke_extract(seed: int, workers: int) -> str:
    """A deterministic P3KE extract (CSV: nik,desil) including the example worker."""
    rng = random.Random(seed)
    regencies = [r.kemendagri_code for r in all_regions()]
    lines = ["nik,desil", f"{EXAMPLE_WORKER['nik']},1"]
    for serial in range(1, workers + 1):
        birth = date(1962, 1, 1) + timedelta(days=rng.randrange(0, 365 * 42))
        nik = compose_nik(rng.choice(regencies), rng.randint(1, 20), birth, rng.choice("LP"), serial)
        lines.append(f"{nik},{rng.choice((1, 1, 2, 2, 3, 4))}")
    return "\n".join(lines) + "\n"


DEMO_PROGRAMME = "DEMO-SUMUT-2026"
OTHER_FUNDER_PROGRAMME = "SAMOSIR-2026"  # Samosir's own programme (APBD Kabupaten), same year
COVERAGE_START = date(2026, 1, 1)


def demo_day(today: date) -> date | None:
    """The business day a demo stack started on `today` lives on: None (the system clock) within
    the demo's programme year; outside it, the same month and day in that year, so the demo's
    nominations are not refused as PROGRAMME_ENDED once its year is over (29 February: the 28th)."""
    if today.year == COVERAGE_START.year:
        return None
    day = min(today.day, 28) if today.month == 2 else today.day
    return date(COVERAGE_START.year, today.month, day)


def read_quotas(path: Path) -> list[tuple[str, str, int]]:
    """(regency, sector, seats) of a programme YAML, read directly (no allocation import)."""
    data = yaml.safe_load(path.read_text())
    return [(str(q["regency"]), str(q["sector"]), int(q["seats"])) for q in data["quotas"]]


def examples_dir() -> Path:
    """Where the example programme files are (docs/examples, or beside the package)."""
    return demo_programme_path().parent
