"""Sectors and quota cells: a programme's seats are set per regency × sector."""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple


class Sector(StrEnum):
    """Sector of a quota: palm-oil (sawit) regencies are funded and counted apart from the rest."""

    SAWIT = "sawit"
    NON_SAWIT = "non_sawit"


class QuotaCell(NamedTuple):
    """One regency × sector cell of a programme's quota (regency as a Kemendagri code, "12.71")."""

    regency: str
    sector: Sector
