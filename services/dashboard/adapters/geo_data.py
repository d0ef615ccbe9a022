"""The boundary files shipped in services/dashboard/data, read into the maps' Atlas."""

from __future__ import annotations

from functools import cache
from importlib.resources import files

from services.dashboard.domain.geo import Atlas, parse

REGENCY_FILE = "sumut_regencies.geo.json"
KECAMATAN_FILE = "sumut_kecamatan.geo.json"


def _read(name: str) -> str:
    return (files("services.dashboard.data") / name).read_text(encoding="utf-8")


@cache
def load_atlas() -> Atlas:
    """North Sumatra's regencies/cities and kecamatan (read once per process: ~1 MB of GeoJSON)."""
    return Atlas(parse(_read(REGENCY_FILE)), parse(_read(KECAMATAN_FILE)))
