"""How the pretend BPJS decides on a registration: seeded, so every run of a test decides the same."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class InsurerBehaviour:
    """Configurable behaviour of the simulator (rates are per million to stay in integers)."""

    seed: int
    nik_not_found_per_million: int
    age_min: int
    age_max: int


def _draw(seed: int, key: str) -> int:
    """A deterministic number in [0, 1_000_000) for `key` under `seed`."""
    digest = hashlib.sha256(f"{seed}:{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 1_000_000


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def registration_refusal(
    nik: str, birth_date: date, coverage_start: date, behaviour: InsurerBehaviour
) -> tuple[str, str] | None:
    """BPJS's reason to refuse a registration (code, message), or None to accept it."""
    if _draw(behaviour.seed, nik) < behaviour.nik_not_found_per_million:
        return "NIK_NOT_FOUND", "NIK tidak ditemukan di data kependudukan (Dukcapil)."
    age = age_on(birth_date, coverage_start)
    if not behaviour.age_min <= age <= behaviour.age_max:
        return "AGE_OUT_OF_RANGE", f"Usia {age} tahun di luar batas kepesertaan BPU."
    return None


def kpj_number(sequence: int) -> str:
    """An 11-digit KPJ with a BPJS-like prefix; unique because `sequence` is."""
    return f"KPJ{sequence + 26_000_000_000:011d}"
