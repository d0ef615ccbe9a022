"""Which area a summary covers, and the query filter and sort order that follow from it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select

from libs.regions import PROVINCE_CODE
from services.dashboard.domain.labels import PROVINCE_NAME, REGION_ORDER, regency_name

UNKNOWN_SECTOR = "tidak_diketahui"
UNKNOWN_KECAMATAN = "tidak_diketahui"


def scoped(query: Select[Any], column: Any, regency: str | None) -> Select[Any]:
    """`query` kept to one regency's rows (all rows when `regency` is None)."""
    return query.where(column == regency) if regency else query


def region_sort_key(code: str) -> tuple[int, str]:
    """Kemendagri order of regencies; unknown codes last, by code."""
    return (REGION_ORDER.get(code, len(REGION_ORDER)), code)


def scope_json(prog: Any, regency: str | None) -> dict[str, Any]:
    """Which area the figures cover: the province, or one regency (a regency programme always
    covers its own regency), and the programme's per-village cap."""
    regency_programme = prog.jurisdiction != PROVINCE_CODE
    area = regency or (prog.jurisdiction if regency_programme else None)
    return {
        "kind": "regency" if regency_programme else "province",
        # The whole programme is in view (its budget cap applies), not a regency's slice of it.
        "whole_programme": area is None or area == prog.jurisdiction,
        "regency_code": prog.jurisdiction if regency_programme else None,
        "per_village_cap": prog.village_cap,
        "regency": area,
        "name": regency_name(area) if area else PROVINCE_NAME,
    }
