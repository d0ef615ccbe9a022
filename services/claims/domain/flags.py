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
    BEFORE_ENROLLMENT = "BEFORE_ENROLLMENT"
    IN_LAPSE = "IN_LAPSE"
    MONTH_NOT_PAID = "MONTH_NOT_PAID"
    COVERAGE_ENDED = "COVERAGE_ENDED"
    MEMBERSHIP_ENDED = "MEMBERSHIP_ENDED"
    JKK_CLAIM_WINDOW_PASSED = "JKK_CLAIM_WINDOW_PASSED"
    SCHOLARSHIP_MEMBERSHIP_TOO_SHORT = "SCHOLARSHIP_MEMBERSHIP_TOO_SHORT"


# (message for officers in Indonesian, meaning in English for developers and auditors)
_MESSAGES: Mapping[FlagCode, tuple[str, str]] = {
    FlagCode.UNKNOWN_PARTICIPANT: (
        "Peserta (KPJ) tidak terdaftar dalam program bantuan iuran.",
        "The KPJ is not a participant of any programme we pay premiums for.",
    ),
    FlagCode.INCIDENT_OUTSIDE_COVERAGE: (
        "Tanggal kejadian berada di luar masa perlindungan peserta.",
        "The incident happened outside the programme's coverage period (details: coverage_reason "
        "BEFORE_COVERAGE_START, AFTER_COVERAGE_END or BETWEEN_COVERAGE_PERIODS).",
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
    FlagCode.BEFORE_ENROLLMENT: (
        "Tanggal kejadian sebelum peserta terdaftar di BPJS Ketenagakerjaan.",
        "Inside the programme period, but before the day BPJS registered the worker (enrolled_on).",
    ),
    FlagCode.IN_LAPSE: (
        "Tanggal kejadian dalam masa tidak aktif karena iuran tidak dibayar.",
        "The incident falls in a lapse enrollment recorded (CoverageLapsed) that no payment undid.",
    ),
    FlagCode.MONTH_NOT_PAID: (
        "Iuran bulan kejadian belum dibayar saat klaim dicatat.",
        "The premium of the incident's month was not paid when the claim was recorded (no lapse "
        "recorded yet).",
    ),
    FlagCode.COVERAGE_ENDED: (
        "Tanggal kejadian setelah perlindungan program berakhir untuk peserta ini.",
        "After the day the programme stopped paying for the worker (CoverageEnded: withdrawn, died, "
        "removed by decree...).",
    ),
    FlagCode.MEMBERSHIP_ENDED: (
        "Tanggal kejadian setelah kepesertaan BPU berakhir (perlu pendaftaran ulang).",
        "After BPJS ended the BPU membership for months unpaid beyond the arrears allowed "
        "(MembershipEnded), with no registration since.",
    ),
    FlagCode.JKK_CLAIM_WINDOW_PASSED: (
        "Klaim JKK diajukan setelah batas waktu pengajuan klaim sejak kejadian.",
        "A JKK claim filed (paid date) later than the JKK claim window after the incident.",
    ),
    FlagCode.SCHOLARSHIP_MEMBERSHIP_TOO_SHORT: (
        "Beasiswa JKM dibayar sebelum masa kepesertaan minimal terpenuhi.",
        "A JKM scholarship for a death before the minimum membership (3 years by default) from the "
        "worker's first registration.",
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
