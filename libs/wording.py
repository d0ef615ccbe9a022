"""How Lindung writes numbers, money and dates for Indonesian officers: the one home of these
conventions (dots between thousands, month names in Indonesian, dates in words)."""

from __future__ import annotations

from datetime import date

BULAN = (
    "Januari", "Februari", "Maret", "April", "Mei", "Juni",
    "Juli", "Agustus", "September", "Oktober", "November", "Desember",
)  # fmt: skip
BULAN_SINGKAT = ("Jan", "Feb", "Mar", "Apr", "Mei", "Jun", "Jul", "Agu", "Sep", "Okt", "Nov", "Des")


def number(value: int) -> str:
    """A count with dots between thousands: 9920 -> '9.920', -1500 -> '-1.500'."""
    sign = "-" if value < 0 else ""
    return sign + f"{abs(value):,}".replace(",", ".")


def rupiah(amount: int) -> str:
    """Whole rupiah as Indonesian documents write them: 16000000 -> 'Rp16.000.000' ('-Rp...' below 0)."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise TypeError(f"rupiah are whole numbers, got {amount!r}")
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{number(abs(amount))}"


def tanggal(day: date) -> str:
    """A date in words, as in letters and decrees: '17 Agustus 1945' (no DD/MM versus MM/DD doubt)."""
    return f"{day.day} {BULAN[day.month - 1]} {day.year}"


def bulan_tahun(year: int, month: int, *, short: bool = False) -> str:
    """A month of a year: 'Maret 2026', or 'Mar 2026' where space is short."""
    return f"{(BULAN_SINGKAT if short else BULAN)[month - 1]} {year}"
