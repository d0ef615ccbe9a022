"""The maps the page draws: the province's regencies, and one regency's kecamatan with their desa."""

from __future__ import annotations

from typing import Any

from libs.regions.places import desa_of_kecamatan, kecamatan_of_regency
from services.dashboard.domain.geo import Atlas

MAP_WIDTH = 600  # the map's box; the page scales it (it draws no text inside)


def regency_map(atlas: Atlas) -> dict[str, Any]:
    """The 33 regencies/cities as SVG paths in a 600-wide box."""
    return atlas.regency_map(MAP_WIDTH).as_json()


def kecamatan_map(atlas: Atlas, regency: str) -> dict[str, Any] | None:
    """One regency's kecamatan as SVG paths with each kecamatan's desa/kelurahan (the map's
    drill-down where seats are capped per village); None for a code no regency has."""
    drawn = atlas.kecamatan_map(regency, MAP_WIDTH)
    if drawn is None:
        return None
    return {**drawn.as_json(), "villages": villages_by_kecamatan(regency)}


def villages_by_kecamatan(regency: str) -> dict[str, list[dict[str, str]]]:
    """Desa/kelurahan per kecamatan code of one regency."""
    return {
        k.code: [{"code": d.code, "name": d.name, "kind": d.kind} for d in desa_of_kecamatan(k.code)]
        for k in kecamatan_of_regency(regency)
    }
