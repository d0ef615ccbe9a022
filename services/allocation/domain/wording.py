"""How allocation speaks to officers: sectors in words; rupiah, counts and dates come from
libs/wording.py, the one home of those conventions (re-exported here for allocation's callers)."""

from __future__ import annotations

from libs.wording import number, rupiah, tanggal
from services.allocation.domain.sector import Sector

__all__ = ["SECTOR_NAMES", "number", "rupiah", "sector_name", "tanggal"]

SECTOR_NAMES = {Sector.SAWIT: "Sawit", Sector.NON_SAWIT: "Non-sawit"}


def sector_name(sector: Sector | str) -> str:
    """'Sawit' or 'Non-sawit'."""
    return SECTOR_NAMES[Sector(sector)]
