"""Claim flags: stable machine codes, with messages for officers (Indonesian) and for the README."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum


class FlagCode(StrEnum):
    """Why a paid claim needs a look. Codes are stable: events and reports store them."""

    UNKNOWN_PARTICIPANT = "UNKNOWN_PARTICIPANT"
    INCIDENT_OUTSIDE_COVERAGE = "INCIDENT_OUTSIDE_COVERAGE"
    BENEFIT_NOT_IN_PROGRAMME = "BENEFIT_NOT_IN_PROGRAMME"
    AMOUNT_ABOVE_BENEFIT = "AMOUNT_ABOVE_BENEFIT"
    DUPLICATE_DEATH_CLAIM = "DUPLICATE_DEATH_CLAIM"
    CLAIM_AMOUNT_CHANGED = "CLAIM_AMOUNT_CHANGED"
    CLAIM_DETAILS_CHANGED = "CLAIM_DETAILS_CHANGED"


# (message for officers in Indonesian, meaning in English for developers and auditors)
_MESSAGES: Mapping[FlagCode, tuple[str, str]] = {
    FlagCode.UNKNOWN_PARTICIPANT: (
        "Peserta (KPJ) tidak terdaftar dalam program bantuan iuran.",
        "The KPJ is not a participant of any programme we pay premiums for.",
    ),
    FlagCode.INCIDENT_OUTSIDE_COVERAGE: (
        "Tanggal kejadian berada di luar masa perlindungan peserta.",
        "The incident happened on a day the worker was not covered.",
    ),
    FlagCode.BENEFIT_NOT_IN_PROGRAMME: (
        "Jenis manfaat ini tidak dibayarkan oleh program tersebut.",
        "The programme does not pay this kind of benefit (e.g. JKM medical care).",
    ),
    FlagCode.AMOUNT_ABOVE_BENEFIT: (
        "Jumlah klaim melebihi batas manfaat untuk jenis manfaat ini.",
        "The amount is above the ceiling for this programme and benefit kind.",
    ),
    FlagCode.DUPLICATE_DEATH_CLAIM: (
        "Peserta sudah memiliki klaim kematian dengan nomor klaim lain.",
        "The worker (same KPJ or NIK) already has a death claim under another claim id.",
    ),
    FlagCode.CLAIM_AMOUNT_CHANGED: (
        "Nomor klaim yang sama diterima kembali dengan jumlah yang berbeda.",
        "A claim id seen before arrived again with another amount.",
    ),
    FlagCode.CLAIM_DETAILS_CHANGED: (
        "Nomor klaim yang sama diterima kembali dengan data yang berbeda.",
        "A claim id seen before arrived again with the same amount but other details changed.",
    ),
}


@dataclass(frozen=True, slots=True)
class Flag:
    """One finding on a claim: the code, its standard message, and the specifics (Indonesian)."""

    code: FlagCode
    message: str
    detail: str


def flag(code: FlagCode, detail: str) -> Flag:
    """A flag with the standard message for `code`."""
    return Flag(code, message_for(code), detail)


def message_for(code: FlagCode) -> str:
    """The Indonesian message officers see for `code`."""
    return _MESSAGES[code][0]


def flag_messages_table() -> str:
    """The flags as a Markdown table, for the README."""
    rows = [
        "| Code | Pesan (Indonesian) | Meaning |",
        "| --- | --- | --- |",
        *(f"| `{code}` | {_MESSAGES[code][0]} | {_MESSAGES[code][1]} |" for code in FlagCode),
    ]
    return "\n".join(rows) + "\n"


def rupiah(amount: int) -> str:
    """`48000000` as `Rp48.000.000`, the way Indonesian documents write amounts."""
    sign = "-" if amount < 0 else ""
    return f"{sign}Rp{abs(amount):,}".replace(",", ".")
