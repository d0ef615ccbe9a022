"""Test data for the registry's domain: a valid nomination, policy and context, and NIKs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from libs.regions import all_regions
from services.registry.domain.nomination import (
    NominationInput,
    ValidationContext,
    ValidationPolicy,
)

COVERAGE_START = date(2026, 1, 1)

# Samosir's list (DOMAIN.md); the real one lives in configuration.
OCCUPATIONS = frozenset(
    {
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
    }
)


# A provincial programme with seats in every regency and sector.
EVERY_CELL = frozenset(
    (r.kemendagri_code, sector) for r in all_regions() for sector in ("sawit", "non_sawit")
)


def make_nik(
    regency: str = "1217",
    subdistrict: str = "05",
    birth_date: date = date(1985, 8, 17),
    sex: str = "L",
    serial: str = "0042",
) -> str:
    """Assemble a NIK from its parts (``regency`` in NIK form, "1217")."""
    day = birth_date.day + (40 if sex == "P" else 0)
    return f"{regency}{subdistrict}{day:02d}{birth_date:%m%y}{serial}"


def a_policy(**overrides: Any) -> ValidationPolicy:
    policy = ValidationPolicy(
        coverage_start=COVERAGE_START,
        age_min=15,
        age_max=65,
        allowed_deciles=frozenset({1, 2}),
        occupations=OCCUPATIONS,
        nik_regency_must_match=True,
        admit_dtks_only=True,
        jurisdiction="12",
        seated_cells=EVERY_CELL,
        village_cap=None,
    )
    return replace(policy, **overrides)


def a_nomination(**overrides: Any) -> NominationInput:
    """A nomination by Samosir that passes every rule under :func:`a_policy`."""
    nomination = NominationInput(
        nik=make_nik(),
        full_name="Rudolf Simbolon",
        birth_date=date(1985, 8, 17),
        sex="L",
        occupation="nelayan",
        regency_code="12.17",
        kecamatan="Pangururan",
        desa="Pintu Sona",
        address="Jl. Dr. Hadrianus Sinaga",
        phone=None,
        sector="non_sawit",
        desil=1,
        funder="APBD Kabupaten",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
    )
    return replace(nomination, **overrides)


def a_context(**overrides: Any) -> ValidationContext:
    """Reference data that admits the worker through P3KE desil 1."""
    context = ValidationContext(
        p3ke_desil=1,
        in_dtks=False,
        existing_nominations=(),
        active_bpjs_kpj=None,
    )
    return replace(context, **overrides)
