"""Codes the registry answers with when a nomination cannot even reach the rules.

:mod:`reasons` holds the validation rules' codes (carried in ``WorkerRejected``). The codes here
answer a request as a whole — an unknown programme, a row of an upload that cannot be read, a
Kafka message that is not a nomination — or refuse an officer's action. Systems act on the code;
officers read the Indonesian message. Like rule codes, a code is never renamed or reused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum, unique


@unique
class AnswerCode(StrEnum):
    """Stable code of an answer that is not a validation rule's rejection."""

    PROGRAMME_UNKNOWN = "PROGRAMME_UNKNOWN"
    NOMINATION_INVALID = "NOMINATION_INVALID"
    BIRTH_DATE_UNREADABLE = "BIRTH_DATE_UNREADABLE"
    DECILE_INVALID = "DECILE_INVALID"
    UPLOAD_UNREADABLE = "UPLOAD_UNREADABLE"
    UPLOAD_COLUMNS_MISSING = "UPLOAD_COLUMNS_MISSING"
    UPLOAD_TOO_LARGE = "UPLOAD_TOO_LARGE"
    MESSAGE_MALFORMED = "MESSAGE_MALFORMED"
    MESSAGE_SCHEMA_INVALID = "MESSAGE_SCHEMA_INVALID"
    MESSAGE_VERSION_UNSUPPORTED = "MESSAGE_VERSION_UNSUPPORTED"
    NOMINATION_NOT_PROCESSED = "NOMINATION_NOT_PROCESSED"
    NOMINATION_NOT_FOUND = "NOMINATION_NOT_FOUND"
    NOMINATION_NOT_CORRECTABLE = "NOMINATION_NOT_CORRECTABLE"
    CORRECTION_EMPTY = "CORRECTION_EMPTY"
    NOMINATION_ALREADY_WITHDRAWN = "NOMINATION_ALREADY_WITHDRAWN"
    REFERENCE_INVALID = "REFERENCE_INVALID"
    BIRTH_DATE_NONEXISTENT = "BIRTH_DATE_NONEXISTENT"
    REQUEST_INVALID = "REQUEST_INVALID"
    PROGRAMME_ENDED = "PROGRAMME_ENDED"
    UPLOAD_TOO_LARGE_UNCOMPRESSED = "UPLOAD_TOO_LARGE_UNCOMPRESSED"
    PERSON_NOT_FOUND = "PERSON_NOT_FOUND"
    PERSON_ALREADY_FORGOTTEN = "PERSON_ALREADY_FORGOTTEN"
    PRIVACY_NOT_CONFIGURED = "PRIVACY_NOT_CONFIGURED"


_MESSAGES: dict[AnswerCode, str] = {
    AnswerCode.PROGRAMME_UNKNOWN: "Program {programme_code} tidak dikenal atau belum ditetapkan.",
    AnswerCode.NOMINATION_INVALID: (
        "Usulan tidak dapat dicatat: NIK, jenis kelamin, sektor, nama atau kode kabupaten/kota tidak "
        "dapat dibaca. Perbaiki isian sesuai alasan yang tercantum lalu kirim ulang."
    ),
    AnswerCode.BIRTH_DATE_UNREADABLE: (
        "Tanggal lahir '{value}' tidak dapat dibaca; tulis sebagai HH-BB-TTTT (misalnya 05-07-1988)."
    ),
    AnswerCode.DECILE_INVALID: "Desil '{value}' tidak sah; isi angka 1 sampai 10 atau kosongkan.",
    AnswerCode.UPLOAD_UNREADABLE: "Berkas tidak dapat dibaca sebagai CSV atau XLSX ({error}).",
    AnswerCode.UPLOAD_COLUMNS_MISSING: (
        "Kolom wajib tidak ditemukan pada baris judul: {columns}. Kolom yang dikenali: {expected}."
    ),
    AnswerCode.UPLOAD_TOO_LARGE: "Berkas berisi {rows} baris; paling banyak {limit} baris per unggahan.",
    AnswerCode.MESSAGE_MALFORMED: ("Pesan tidak dapat dibaca: bukan amplop JSON Lindung yang sah ({error})."),
    AnswerCode.MESSAGE_SCHEMA_INVALID: (
        "Isi pesan {event_type} tidak sesuai skema versi {schema_version}; periksa kolom: {fields}."
    ),
    AnswerCode.MESSAGE_VERSION_UNSUPPORTED: (
        "Versi skema {schema_version} dari {event_type} belum didukung (versi yang didukung: {supported})."
    ),
    AnswerCode.NOMINATION_NOT_PROCESSED: (
        "Usulan tidak dapat diproses karena gangguan pada sistem Lindung; pesan disimpan untuk "
        "diperiksa petugas. Jangan kirim ulang sebelum ada pemberitahuan."
    ),
    AnswerCode.NOMINATION_NOT_FOUND: "Usulan tidak ditemukan.",
    AnswerCode.NOMINATION_NOT_CORRECTABLE: (
        "Hanya usulan yang ditolak yang dapat diperbaiki; status usulan ini: {status}."
    ),
    AnswerCode.CORRECTION_EMPTY: "Perbaikan tidak mengubah isian apa pun.",
    AnswerCode.NOMINATION_ALREADY_WITHDRAWN: "Usulan ini sudah ditarik sebelumnya.",
    AnswerCode.REFERENCE_INVALID: "Data rujukan tidak dapat diimpor: {error}",
    AnswerCode.BIRTH_DATE_NONEXISTENT: "Tanggal lahir '{value}' tidak ada di kalender: {why}.",
    AnswerCode.REQUEST_INVALID: "Permintaan tidak dapat dibaca; periksa kolom: {fields}.",
    AnswerCode.PROGRAMME_ENDED: (
        "Masa kepesertaan program {programme_code} sudah berakhir pada {coverage_end}; "
        "usulan baru tidak dapat lagi dilindungi. Usulkan ke program tahun berjalan."
    ),
    AnswerCode.UPLOAD_TOO_LARGE_UNCOMPRESSED: (
        "Berkas XLSX tidak dibuka: {why}. Simpan ulang daftar sebagai XLSX biasa atau CSV, "
        "atau bagi menjadi beberapa berkas."
    ),
    AnswerCode.PERSON_NOT_FOUND: "Tidak ada data orang dengan NIK ini di registri.",
    AnswerCode.PERSON_ALREADY_FORGOTTEN: (
        "Data pribadi orang ini sudah dihapus (dilupakan) sebelumnya; tidak ada yang dapat dihapus lagi."
    ),
    AnswerCode.PRIVACY_NOT_CONFIGURED: (
        "Penghapusan data pribadi belum diaktifkan: LINDUNG_PRIVACY_MASTER_KEY tidak diatur "
        "pada layanan registri."
    ),
}


@dataclass(frozen=True)
class Answer:
    """One answer: the code, the officer-facing message already formatted, and its details."""

    code: AnswerCode
    message: str
    details: dict[str, str] = field(default_factory=dict)


def answer(code: AnswerCode, **details: str) -> Answer:
    """The answer for ``code`` with its message filled from ``details`` (KeyError if one is missing)."""
    return Answer(code=code, message=_MESSAGES[code].format_map(details), details=details)


def answer_table() -> list[tuple[AnswerCode, str]]:
    """Every answer code with its message template, in declaration order (for the docs)."""
    return [(code, _MESSAGES[code]) for code in AnswerCode]
