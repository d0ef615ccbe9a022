"""Reading a regency's nomination list (CSV or XLSX) into rows: bytes in, rows out, no I/O.

Regency offices keep their lists in spreadsheets with Indonesian headers that vary from office to
office ("NIK", "No. KTP"; "Desa/Kelurahan", "Kel/Desa"; "Tgl Lahir", "Tempat, Tanggal Lahir"...).
This module finds the header row (title lines above it are common), maps the columns it knows,
ignores the others, and normalises each cell to what the nomination command expects. A cell it
cannot read (a birth date such as "31-02-1988") becomes a problem of that row, never an error of
the whole file; only a file that is not a table, or lacks a required column, is refused.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Literal

from services.registry.adapters.upload_cells import (
    UploadRow,
    cell_text,
    read_birth_date,
    read_date,
    read_decile,
    read_nik,
    read_phone,
    read_row,
    read_sector,
    read_sex,
)
from services.registry.domain.answers import Answer, AnswerCode, answer

# The cell readers live in upload_cells.py; they are read from here too.
__all__ = [
    "UploadError",
    "UploadRow",
    "UploadTable",
    "ZipLimits",
    "check_zip",
    "normalise_header",
    "read_birth_date",
    "read_date",
    "read_decile",
    "read_nik",
    "read_phone",
    "read_row",
    "read_sector",
    "read_sex",
    "read_upload",
]

MAX_ROWS = 50_000
"""Rows per upload: a province-year is ~25,000 rows; bigger lists are split by kecamatan."""

REQUIRED = ("nik", "full_name", "birth_date", "sex", "occupation", "kecamatan", "desa", "sector")
OPTIONAL = ("address", "phone", "decile")

# Headers as officers write them, normalised by _normalise_header (lower case, letters and digits
# separated by single spaces, any "(...)" explanation removed).
_ALIASES: dict[str, tuple[str, ...]] = {
    "nik": (
        "nik", "no nik", "nomor nik", "nik ktp", "no ktp", "nomor ktp", "nomor induk kependudukan",
        "nik pekerja", "nik peserta",
    ),
    "full_name": (
        "nama", "nama lengkap", "nama pekerja", "nama peserta", "nama sesuai ktp", "nama tenaga kerja",
    ),
    "birth_date": (
        "tanggal lahir", "tgl lahir", "tgl lhr", "tanggal lhr", "tgllahir", "tanggallahir",
        "tanggal kelahiran", "tempat tanggal lahir", "tempat tgl lahir", "ttl",
    ),
    "sex": ("jenis kelamin", "jk", "l p", "kelamin", "jenis kel", "gender"),
    "occupation": ("pekerjaan", "jenis pekerjaan", "profesi", "mata pencaharian"),
    "kecamatan": ("kecamatan", "kec"),
    "desa": (
        "desa kelurahan", "desa", "kelurahan", "desa kel", "kel desa", "kelurahan desa",
    ),
    "address": ("alamat", "alamat lengkap", "alamat rumah", "alamat domisili"),
    "phone": (
        "no hp", "nomor hp", "no handphone", "nomor handphone", "hp", "no telp", "no telepon",
        "nomor telepon", "telepon", "telp", "no wa", "nomor wa", "no hp wa", "nomor hp wa",
    ),
    "sector": ("sektor", "sawit non sawit", "kategori sektor", "sektor usaha"),
    "decile": ("desil", "desil p3ke", "kelompok desil", "peringkat desil"),
}  # fmt: skip
_FIELD_OF = {alias: name for name, aliases in _ALIASES.items() for alias in aliases}

# How the docs and error messages name each field (the header a template would use).
HEADERS: dict[str, str] = {
    "nik": "NIK",
    "full_name": "nama",
    "birth_date": "tanggal lahir",
    "sex": "jenis kelamin",
    "occupation": "pekerjaan",
    "kecamatan": "kecamatan",
    "desa": "desa/kelurahan",
    "address": "alamat",
    "phone": "no. HP",
    "sector": "sektor",
    "decile": "desil",
}

_HEADER_SCAN_ROWS = 15
_PARENTHESES = re.compile(r"\([^)]*\)")
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")


class UploadError(ValueError):
    """The file as a whole cannot be used; `answer` says why (code + Indonesian message)."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.message)
        self.answer = answer


@dataclass(frozen=True)
class UploadTable:
    """The readable content of an upload."""

    format: Literal["csv", "xlsx"]
    header_row: int
    columns: dict[str, str]  # field -> the header as written in the file
    ignored_columns: list[str]
    rows: list[UploadRow] = field(default_factory=list)


@dataclass(frozen=True)
class ZipLimits:
    """How far an XLSX (a zip) may expand, checked on its directory before anything is inflated
    (settings `upload_max_uncompressed_bytes`, `upload_max_compression_ratio`)."""

    max_uncompressed_bytes: int = 200 * 1024 * 1024
    max_ratio: int = 250
    max_members: int = 10_000


def check_zip(stream: IO[bytes], limits: ZipLimits) -> None:
    """Refuse a zip whose members declare more bytes in all than the limit, or one member that
    inflates more than `max_ratio` times: a zip bomb is refused from its directory alone (the
    declared size also bounds what zipfile will inflate of a member)."""
    try:
        members = zipfile.ZipFile(stream).infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UploadError(answer(AnswerCode.UPLOAD_UNREADABLE, error=type(exc).__name__)) from exc
    if len(members) > limits.max_members:
        raise _too_large(f"{len(members)} bagian di dalam arsip (batas {limits.max_members})")
    total = sum(m.file_size for m in members)
    if total > limits.max_uncompressed_bytes:
        raise _too_large(
            f"isinya {total:,} bita setelah dibuka (batas {limits.max_uncompressed_bytes:,} bita)"
        )
    for m in members:
        if m.file_size > limits.max_ratio * max(m.compress_size, 1) and m.file_size > 1024 * 1024:
            ratio = m.file_size // max(m.compress_size, 1)
            raise _too_large(f"bagian {m.filename} memampat {ratio}:1 (batas {limits.max_ratio}:1)")


def _too_large(why: str) -> UploadError:
    return UploadError(answer(AnswerCode.UPLOAD_TOO_LARGE_UNCOMPRESSED, why=why.replace(",", ".")))


def read_upload(
    content: bytes | IO[bytes],
    filename: str | None = None,
    *,
    max_rows: int = MAX_ROWS,
    zip_limits: ZipLimits = ZipLimits(),
) -> UploadTable:
    """The rows of a CSV or XLSX nomination list; raises UploadError when the file is unusable.

    `content` is the file's bytes or a seekable binary file (the upload's spool): a CSV is decoded
    as a stream, an XLSX's zip directory is checked before openpyxl opens it."""
    stream: IO[bytes] = io.BytesIO(content) if isinstance(content, bytes) else content
    stream.seek(0)
    head = stream.read(8)
    stream.seek(0)
    if head.startswith(b"PK\x03\x04"):
        check_zip(stream, zip_limits)
        stream.seek(0)
        return _table("xlsx", _xlsx_rows(stream), max_rows)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise UploadError(
            answer(AnswerCode.UPLOAD_UNREADABLE, error="format XLS lama; simpan ulang sebagai XLSX atau CSV")
        )
    if filename and filename.lower().endswith((".xlsx", ".xlsm")):
        raise UploadError(answer(AnswerCode.UPLOAD_UNREADABLE, error="berkas XLSX rusak"))
    return _table("csv", _csv_rows(stream), max_rows)


_CHUNK = 64 * 1024


def _csv_encoding(stream: IO[bytes]) -> str:
    """UTF-8 (with or without BOM) if the whole file decodes so, else cp1252 (Excel on Windows
    saves "CSV" in the ANSI code page): read chunk by chunk, never whole. A NUL byte is no text."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8 = True
    for chunk in iter(lambda: stream.read(_CHUNK), b""):
        if b"\x00" in chunk:
            raise UploadError(answer(AnswerCode.UPLOAD_UNREADABLE, error="bukan berkas teks"))
        if utf8:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    stream.seek(0)
    return "utf-8-sig" if utf8 else "cp1252"


def _csv_rows(stream: IO[bytes]) -> Iterator[tuple[int, Sequence[Any]]]:
    text = io.TextIOWrapper(stream, encoding=_csv_encoding(stream), errors="replace", newline="")
    try:
        # Indonesian Excel uses ";" as the list separator, so its CSV files do too: take the
        # separator under which the most columns of the header are recognised.
        sample = [line.rstrip("\r\n") for line in itertools.islice(text, _HEADER_SCAN_ROWS)]
        delimiter = max(",;\t|", key=lambda d: _best_header_score(csv.reader(sample, delimiter=d)))
        text.seek(0)
        reader = csv.reader(text, delimiter=delimiter)
        try:
            yield from enumerate(reader, start=1)
        except csv.Error as exc:
            raise UploadError(answer(AnswerCode.UPLOAD_UNREADABLE, error=str(exc))) from exc
    finally:
        if not stream.closed:  # (closed first when both are collected as garbage)
            text.detach()  # the caller's file stays open


def _best_header_score(rows: Iterable[Sequence[Any]]) -> int:
    try:
        return max((len(_header_fields(r)[0]) for r in rows), default=0)
    except csv.Error:
        return 0


def _xlsx_rows(stream: IO[bytes]) -> Iterator[tuple[int, Sequence[Any]]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise UploadError(answer(AnswerCode.UPLOAD_UNREADABLE, error=type(exc).__name__)) from exc
    try:
        # The first sheet with a recognisable header: offices often keep a cover sheet first.
        for sheet in workbook.worksheets:
            rows = sheet.iter_rows(values_only=True)
            head = [(n, r) for n, r in zip(range(1, _HEADER_SCAN_ROWS + 1), rows, strict=False)]
            if any(_header_fields(r)[0].keys() >= {"nik"} for _, r in head):
                yield from head
                yield from enumerate(rows, start=len(head) + 1)
                return
        yield from ()
    finally:
        workbook.close()


def _table(
    fmt: Literal["csv", "xlsx"], rows: Iterable[tuple[int, Sequence[Any]]], max_rows: int
) -> UploadTable:
    iterator = iter(rows)
    header: tuple[int, dict[str, int], dict[str, str], list[str]] | None = None
    best_missing: list[str] = list(REQUIRED)
    for number, cells in iterator:
        if number > _HEADER_SCAN_ROWS:
            break
        positions, written = _header_fields(cells)
        missing = [f for f in REQUIRED if f not in positions]
        if "nik" in positions and len(missing) < len(best_missing):
            best_missing = missing
        if not missing:
            ignored = [
                str(c).strip() for i, c in enumerate(cells) if cell_text(c) and i not in positions.values()
            ]
            header = (number, positions, written, ignored)
            break
    if header is None:
        expected = ", ".join(HEADERS[f] for f in REQUIRED + OPTIONAL)
        missing_names = ", ".join(HEADERS[f] for f in best_missing)
        raise UploadError(answer(AnswerCode.UPLOAD_COLUMNS_MISSING, columns=missing_names, expected=expected))
    header_row, positions, written, ignored = header
    table = UploadTable(fmt, header_row, written, ignored)
    for number, cells in iterator:
        values = {name: cells[i] if i < len(cells) else None for name, i in positions.items()}
        if not any(cell_text(v) for v in values.values()):
            continue  # blank line, or a template row numbered in advance
        if len(table.rows) >= max_rows:
            raise UploadError(answer(AnswerCode.UPLOAD_TOO_LARGE, rows=f"> {max_rows}", limit=str(max_rows)))
        table.rows.append(read_row(number, values))
    return table


def _header_fields(cells: Sequence[Any]) -> tuple[dict[str, int], dict[str, str]]:
    positions: dict[str, int] = {}
    written: dict[str, str] = {}
    for index, cell in enumerate(cells):
        if not isinstance(cell, str):
            continue
        name = _FIELD_OF.get(normalise_header(cell))
        if name is not None and name not in positions:
            positions[name] = index
            written[name] = cell.strip()
    return positions, written


def normalise_header(header: str) -> str:
    """ "Desa/Kelurahan" -> "desa kelurahan", "No. HP" -> "no hp", "Sektor (sawit/non-sawit)" -> "sektor"."""
    without_notes = _PARENTHESES.sub(" ", header.casefold())
    return _NOT_ALNUM.sub(" ", without_notes).strip()
