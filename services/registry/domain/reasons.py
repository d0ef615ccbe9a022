"""Why a nomination is rejected: stable machine codes and the Indonesian text officers read.

The codes travel in ``WorkerRejected`` events and are replayed for years by auditors, so a code is
never renamed or reused; a new reason gets a new code. The messages may be reworded freely.

Messages hold no full NIK: they reach dashboards and exports, where personal data (UU 27/2022)
must not spread. Details hold only what the officer needs to correct the row.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from enum import StrEnum, unique


@unique
class ReasonCode(StrEnum):
    """Stable code of one reason for rejecting a nomination."""

    NIK_FORMAT = "NIK_FORMAT"
    NIK_PROVINCE = "NIK_PROVINCE"
    NIK_REGENCY_UNKNOWN = "NIK_REGENCY_UNKNOWN"
    NIK_SUBDISTRICT_ZERO = "NIK_SUBDISTRICT_ZERO"
    NIK_BIRTHDATE_INVALID = "NIK_BIRTHDATE_INVALID"
    NIK_SERIAL_ZERO = "NIK_SERIAL_ZERO"
    NIK_BIRTHDATE_MISMATCH = "NIK_BIRTHDATE_MISMATCH"
    NIK_SEX_MISMATCH = "NIK_SEX_MISMATCH"
    NIK_REGENCY_MISMATCH = "NIK_REGENCY_MISMATCH"
    NAME_MISSING = "NAME_MISSING"
    KECAMATAN_MISSING = "KECAMATAN_MISSING"
    DESA_MISSING = "DESA_MISSING"
    SEX_INVALID = "SEX_INVALID"
    SECTOR_INVALID = "SECTOR_INVALID"
    REGENCY_UNKNOWN = "REGENCY_UNKNOWN"
    PERIOD_INVALID = "PERIOD_INVALID"
    OCCUPATION_NOT_ALLOWED = "OCCUPATION_NOT_ALLOWED"
    AGE_BELOW_MIN = "AGE_BELOW_MIN"
    AGE_ABOVE_MAX = "AGE_ABOVE_MAX"
    NOT_IN_P3KE_OR_DTKS = "NOT_IN_P3KE_OR_DTKS"
    DECILE_NOT_ALLOWED = "DECILE_NOT_ALLOWED"
    ALREADY_BPJS_PARTICIPANT = "ALREADY_BPJS_PARTICIPANT"
    DUPLICATE_NOMINATION = "DUPLICATE_NOMINATION"
    DUPLICATE_IN_UPLOAD = "DUPLICATE_IN_UPLOAD"
    REGENCY_OUTSIDE_JURISDICTION = "REGENCY_OUTSIDE_JURISDICTION"
    NO_SEAT_IN_PROGRAMME = "NO_SEAT_IN_PROGRAMME"
    NIK_KECAMATAN_UNKNOWN = "NIK_KECAMATAN_UNKNOWN"
    KECAMATAN_UNKNOWN = "KECAMATAN_UNKNOWN"
    DESA_UNKNOWN = "DESA_UNKNOWN"
    DTKS_NOT_ACCEPTED = "DTKS_NOT_ACCEPTED"
    # A note, not a rejection: shown to the officer with an accepted nomination.
    NIK_ISSUED_ELSEWHERE = "NIK_ISSUED_ELSEWHERE"


_MESSAGES: dict[ReasonCode, str] = {
    ReasonCode.NIK_FORMAT: "NIK harus terdiri dari 16 angka (yang diterima: {length} karakter).",
    ReasonCode.NIK_PROVINCE: "Kode provinsi pada NIK adalah {province}, bukan 12 (Sumatera Utara).",
    ReasonCode.NIK_REGENCY_UNKNOWN: (
        "Kode kabupaten/kota pada NIK ({nik_regency_code}) tidak dikenal di Sumatera Utara."
    ),
    ReasonCode.NIK_SUBDISTRICT_ZERO: "Kode kecamatan pada NIK tidak boleh 00.",
    ReasonCode.NIK_BIRTHDATE_INVALID: (
        "Bagian tanggal lahir pada NIK ({ddmmyy}) bukan tanggal yang sah "
        "(untuk perempuan tanggal ditambah 40)."
    ),
    ReasonCode.NIK_SERIAL_ZERO: "Nomor urut pada NIK (4 angka terakhir) tidak boleh 0000.",
    ReasonCode.NIK_BIRTHDATE_MISMATCH: (
        "Tanggal lahir yang diisi ({stated}) tidak sesuai dengan tanggal lahir pada NIK ({from_nik})."
    ),
    ReasonCode.NIK_SEX_MISMATCH: (
        "Jenis kelamin yang diisi ({stated}) tidak sesuai dengan NIK ({from_nik})."
    ),
    ReasonCode.NIK_REGENCY_MISMATCH: (
        "NIK diterbitkan di {nik_regency}, sedangkan pengusul adalah {nominating_regency}; "
        "pekerja hanya dapat diusulkan oleh kabupaten/kota sesuai NIK."
    ),
    ReasonCode.NAME_MISSING: "Nama lengkap wajib diisi.",
    ReasonCode.KECAMATAN_MISSING: "Kecamatan wajib diisi.",
    ReasonCode.DESA_MISSING: "Desa/kelurahan wajib diisi.",
    ReasonCode.SEX_INVALID: "Jenis kelamin '{sex}' tidak dikenal; isi L (laki-laki) atau P (perempuan).",
    ReasonCode.SECTOR_INVALID: "Sektor '{sector}' tidak dikenal; isi 'sawit' atau 'non_sawit'.",
    ReasonCode.REGENCY_UNKNOWN: (
        "Kode kabupaten/kota pengusul ({regency_code}) tidak dikenal di Sumatera Utara."
    ),
    ReasonCode.PERIOD_INVALID: (
        "Periode program tidak sah: tanggal akhir {period_end} sebelum tanggal awal {period_start}."
    ),
    ReasonCode.OCCUPATION_NOT_ALLOWED: (
        "Pekerjaan '{occupation}' tidak termasuk daftar pekerjaan program ini."
    ),
    ReasonCode.AGE_BELOW_MIN: (
        "Usia {age} tahun pada awal kepesertaan ({coverage_start}) di bawah batas minimal {age_min} tahun."
    ),
    ReasonCode.AGE_ABOVE_MAX: (
        "Usia {age} tahun pada awal kepesertaan ({coverage_start}) di atas batas maksimal {age_max} tahun."
    ),
    ReasonCode.NOT_IN_P3KE_OR_DTKS: "NIK tidak ditemukan di data P3KE maupun DTKS.",
    ReasonCode.DECILE_NOT_ALLOWED: (
        "NIK tercatat di P3KE pada desil {desil}, di luar desil program ({allowed_deciles}), "
        "dan tidak terdaftar di DTKS."
    ),
    ReasonCode.ALREADY_BPJS_PARTICIPANT: (
        "Pekerja sudah menjadi peserta aktif BPJS Ketenagakerjaan (KPJ {kpj})."
    ),
    ReasonCode.DUPLICATE_NOMINATION: (
        "NIK sudah diusulkan ke program {programme_code} ({programme_name}) oleh {regency} "
        "(pendanaan {funder}) untuk periode {period_start} s.d. {period_end}, dan usulan itu masih "
        "berlaku; satu pekerja hanya dibiayai satu program."
    ),
    ReasonCode.DUPLICATE_IN_UPLOAD: (
        "NIK ini sudah ada di baris {first_row} pada berkas unggahan yang sama."
    ),
    ReasonCode.REGENCY_OUTSIDE_JURISDICTION: (
        "{regency} berada di luar wilayah program ini ({jurisdiction_name}); usulan tidak dapat diterima."
    ),
    ReasonCode.NO_SEAT_IN_PROGRAMME: (
        "Program ini tidak menyediakan kuota untuk {regency} sektor {sector_name}; "
        "pekerja ini tidak akan pernah mendapat kursi."
    ),
    ReasonCode.NIK_KECAMATAN_UNKNOWN: (
        "Kode kecamatan pada NIK ({kecamatan_code}) tidak ada di {nik_regency}; "
        "periksa digit ke-5 dan ke-6 NIK."
    ),
    ReasonCode.KECAMATAN_UNKNOWN: (
        "Kecamatan '{kecamatan}' tidak ditemukan di {regency}. Kecamatan yang ada: {known}."
    ),
    ReasonCode.DESA_UNKNOWN: (
        "Desa/kelurahan '{desa}' tidak ditemukan di Kecamatan {kecamatan}; program ini membatasi "
        "kuota per desa, jadi nama desa harus sesuai daftar Kemendagri."
    ),
    ReasonCode.DTKS_NOT_ACCEPTED: (
        "NIK tercatat di DTKS, tetapi program ini hanya menerima pekerja P3KE desil {allowed_deciles} "
        "(NIK ini: {p3ke})."
    ),
    ReasonCode.NIK_ISSUED_ELSEWHERE: (
        "Catatan: NIK diterbitkan di {nik_regency}, sedangkan pengusul adalah {nominating_regency}. "
        "NIK tidak berubah saat pindah domisili; pastikan pekerja berdomisili di {nominating_regency}."
    ),
}


# What an officer reads where the full message would show another regency's data (docs/security.md,
# "No oracles across regencies"): the code stays, so systems still act on it, but the message
# names no desil, DTKS membership, KPJ, programme, regency or funder of someone else's list.
# Only the programme's own settings (its allowed deciles) may be filled in.
_WITHHELD_MESSAGES: dict[ReasonCode, str] = {
    ReasonCode.DUPLICATE_NOMINATION: (
        "NIK sudah tercatat pada usulan lain yang masih berlaku untuk periode yang sama; satu "
        "pekerja hanya dibiayai satu program. Rincian usulan itu hanya dapat dilihat admin provinsi."
    ),
    ReasonCode.DECILE_NOT_ALLOWED: (
        "Menurut data rujukan, NIK ini tidak memenuhi syarat program (desil {allowed_deciles})."
    ),
    ReasonCode.DTKS_NOT_ACCEPTED: (
        "Menurut data rujukan, NIK ini tidak memenuhi syarat program (desil {allowed_deciles})."
    ),
    ReasonCode.ALREADY_BPJS_PARTICIPANT: "Pekerja sudah menjadi peserta aktif BPJS Ketenagakerjaan.",
}
# The details a withheld rejection keeps: the programme's own settings, nothing about the person.
_WITHHELD_KEEPS = frozenset({"allowed_deciles"})


@dataclass(frozen=True)
class Rejection:
    """One reason a nomination fails, with the officer-facing message already formatted."""

    code: ReasonCode
    message: str
    details: dict[str, str] = field(default_factory=dict)


def reject(code: ReasonCode, **details: str) -> Rejection:
    """Build the rejection for ``code``, filling its message template from ``details``.

    Raises KeyError if a placeholder of the template is missing from ``details``: a message
    with a hole in it must fail in tests, not reach an officer.
    """
    return Rejection(code=code, message=_MESSAGES[code].format_map(details), details=details)


def withheld(rejection: Rejection) -> Rejection:
    """`rejection` as told to the officer of another regency than the data's: same code, a message
    without the data (unchanged when its code reveals nothing beyond itself)."""
    template = _WITHHELD_MESSAGES.get(rejection.code)
    if template is None:
        return rejection
    kept = {k: v for k, v in rejection.details.items() if k in _WITHHELD_KEEPS}
    return Rejection(code=rejection.code, message=template.format_map(kept), details=kept)


def reason_table() -> list[tuple[ReasonCode, str]]:
    """Every reason code with its message template, in declaration order (for the README)."""
    return [(code, _MESSAGES[code]) for code in ReasonCode]


def placeholders(code: ReasonCode) -> frozenset[str]:
    """The names a rule must put in ``details`` for the message of ``code``."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(_MESSAGES[code]) if name is not None)
