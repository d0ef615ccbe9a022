"""How allocation speaks to officers: rupiah, dates and sectors written the Indonesian way."""

from __future__ import annotations

import datetime as dt

from services.allocation.domain.sector import Sector

_MONTHS = (
    "Januari",
    "Februari",
    "Maret",
    "April",
    "Mei",
    "Juni",
    "Juli",
    "Agustus",
    "September",
    "Oktober",
    "November",
    "Desember",
)

SECTOR_NAMES = {Sector.SAWIT: "Sawit", Sector.NON_SAWIT: "Non-sawit"}


def rupiah(amount: int) -> str:
    """Whole rupiah with dots between thousands: 16000000 -> 'Rp16.000.000'."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"rupiah are whole numbers, got {amount!r}")
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(amount):,}".replace(",", ".")


def number(value: int) -> str:
    """A count with dots between thousands: 9920 -> '9.920'."""
    return f"{value:,}".replace(",", ".")


def tanggal(day: dt.date) -> str:
    """A date as written in letters and decrees: '27 November 2026'."""
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def sector_name(sector: Sector | str) -> str:
    """'Sawit' or 'Non-sawit'."""
    return SECTOR_NAMES[Sector(sector)]
