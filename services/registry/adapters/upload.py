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
from datetime import date, datetime, timedelta
from typing import IO, Any, Literal

from services.registry.domain.answers import Answer, AnswerCode, answer
from services.registry.domain.dates import calendar_date

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
_SPACES = re.compile(r"\s+")
_EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 = 1900-01-01, with Excel's 1900 leap-year quirk
_EXCEL_SERIAL = re.compile(r"^\d{4,5}(?:\.0+)?$")
_DECILE = re.compile(r"^(?:desil\s*)?(\d{1,2})(?:[.,]0+)?$")
_SEX_WORDS = {
    "l": "L", "lk": "L", "laki": "L", "lakilaki": "L", "pria": "L",
    "p": "P", "pr": "P", "perempuan": "P", "wanita": "P", "w": "P",
}  # fmt: skip
_SECTOR_WORDS = {
    "sawit": "sawit", "kelapasawit": "sawit", "perkebunansawit": "sawit",
    "nonsawit": "non_sawit", "bukansawit": "non_sawit", "non": "non_sawit",
}  # fmt: skip


class UploadError(ValueError):
    """The file as a whole cannot be used; `answer` says why (code + Indonesian message)."""

    def __init__(self, answer: Answer) -> None:
        super().__init__(answer.message)
        self.answer = answer


@dataclass(frozen=True)
class UploadRow:
    """One data row: where it is in the file, its normalised fields, and what could not be read.

    ``fields`` holds the nomination command's fields (without programme and regency, which come
    with the upload); ``birth_date`` is absent and ``problems`` non-empty when it cannot be read.
    """

    row: int  # the row number the spreadsheet shows (the header row counts)
    nik: str  # as written, for duplicate detection within the upload
    fields: dict[str, Any]
    problems: tuple[Answer, ...] = ()


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
                str(c).strip() for i, c in enumerate(cells) if _cell(c) and i not in positions.values()
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
        if not any(_cell(v) for v in values.values()):
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


def read_row(number: int, values: dict[str, Any]) -> UploadRow:
    """Normalise one row's cells (by field name) into the command's fields and the row's problems."""
    problems: list[Answer] = []
    fields: dict[str, Any] = {
        "nik": read_nik(values.get("nik")),
        "full_name": _SPACES.sub(" ", _cell(values.get("full_name"))),
        "sex": read_sex(_cell(values.get("sex"))),
        "occupation": _SPACES.sub(" ", _cell(values.get("occupation"))),
        "kecamatan": _cell(values.get("kecamatan")),
        "desa": _cell(values.get("desa")),
        "address": _cell(values.get("address")),
        "phone": read_phone(values.get("phone")),
        "sector": read_sector(_cell(values.get("sector"))),
    }
    birth = read_birth_date(values.get("birth_date"))
    if isinstance(birth, Answer):
        problems.append(birth)
    else:
        fields["birth_date"] = birth
    raw_decile = values.get("decile")
    decile = read_decile(raw_decile)
    if decile == "invalid":
        problems.append(answer(AnswerCode.DECILE_INVALID, value=_cell(raw_decile)))
    else:
        fields["decile"] = decile
    return UploadRow(number, fields["nik"], fields, tuple(problems))


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def read_nik(value: Any) -> str:
    """The NIK as text: spaces, dots and the apostrophe Excel users type to keep it as text removed.

    A number cell (XLSX) is written back in full; a NIK Excel already turned into "1.21705E+15" is
    left as it is: its digits are lost and the NIK rules will say so.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _cell(value)
    text = _cell(value).lstrip("'`")
    compact = re.sub(r"[\s.\-]", "", text)
    return compact if compact.isdigit() else text


def read_date(value: Any) -> date | None:
    """A birth date from DD-MM-YYYY, DD/MM/YYYY, DD.MM.YYYY, YYYY-MM-DD, "5 Juli 1988", an Excel
    date cell or Excel serial number, or "Tempat, tanggal" (the place is dropped); None otherwise."""
    found = read_birth_date(value)
    return None if isinstance(found, Answer) else found


def read_birth_date(value: Any) -> date | Answer:
    """The date of :func:`read_date`, or the answer for the officer: the date does not exist
    (31-02-1988: BIRTH_DATE_NONEXISTENT), or it cannot be read at all (BIRTH_DATE_UNREADABLE)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    unreadable = answer(AnswerCode.BIRTH_DATE_UNREADABLE, value=_cell(value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_serial(float(value)) or unreadable
    text = _cell(value)
    if "," in text:
        text = text.rsplit(",", 1)[1].strip()  # "Pangururan, 05-07-1988"
    found = calendar_date(text)
    if found is not None:
        return found
    if _EXCEL_SERIAL.match(text):
        return _from_serial(float(text)) or unreadable
    return unreadable


def _from_serial(serial: float) -> date | None:
    # Serials of people's birth dates: 1900-01-01 (1) to 2118 (80000); a time part is dropped.
    if not 1 <= serial < 80_000:
        return None
    return _EXCEL_EPOCH + timedelta(days=int(serial))


def read_sex(value: str) -> str:
    """ "L"/"P" from L, P, Lk, Pr, Laki-laki, Perempuan, Pria, Wanita (any case); else as written."""
    key = re.sub(r"[^a-z]", "", value.casefold())
    return _SEX_WORDS.get(key, value)


def read_sector(value: str) -> str:
    """ "sawit"/"non_sawit" from sawit, kelapa sawit, non sawit, non-sawit, Non_Sawit...; else as written."""
    key = re.sub(r"[^a-z]", "", value.casefold())
    return _SECTOR_WORDS.get(key, value)


def read_decile(value: Any) -> int | Literal["invalid"] | None:
    """The stated desil (1-10), None when blank, "invalid" when it is something else."""
    text = _cell(value).casefold()
    if not text or text == "-":
        return None
    match = _DECILE.match(text)
    if match and 1 <= int(match.group(1)) <= 10:
        return int(match.group(1))
    return "invalid"


def read_phone(value: Any) -> str | None:
    """The phone number as written; a number cell that lost its leading 0 gets it back."""
    text = _cell(value)
    if not text:
        return None
    if isinstance(value, int | float) and text.startswith("8"):
        return "0" + text
    return text
