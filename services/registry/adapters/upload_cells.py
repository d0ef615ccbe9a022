"""One row of a regency's nomination list, cell by cell: NIKs as text, birth dates in the ways
officers write them (and Excel stores them), sex, sector, desil and phone numbers normalised to
what the nomination command expects; what cannot be read becomes a problem of the row."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from services.registry.domain.answers import Answer, AnswerCode, answer
from services.registry.domain.dates import calendar_date

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


def read_row(number: int, values: dict[str, Any]) -> UploadRow:
    """Normalise one row's cells (by field name) into the command's fields and the row's problems."""
    problems: list[Answer] = []
    fields: dict[str, Any] = {
        "nik": read_nik(values.get("nik")),
        "full_name": _SPACES.sub(" ", cell_text(values.get("full_name"))),
        "sex": read_sex(cell_text(values.get("sex"))),
        "occupation": _SPACES.sub(" ", cell_text(values.get("occupation"))),
        "kecamatan": cell_text(values.get("kecamatan")),
        "desa": cell_text(values.get("desa")),
        "address": cell_text(values.get("address")),
        "phone": read_phone(values.get("phone")),
        "sector": read_sector(cell_text(values.get("sector"))),
    }
    birth = read_birth_date(values.get("birth_date"))
    if isinstance(birth, Answer):
        problems.append(birth)
    else:
        fields["birth_date"] = birth
    raw_decile = values.get("decile")
    decile = read_decile(raw_decile)
    if decile == "invalid":
        problems.append(answer(AnswerCode.DECILE_INVALID, value=cell_text(raw_decile)))
    else:
        fields["decile"] = decile
    return UploadRow(number, fields["nik"], fields, tuple(problems))


def cell_text(value: Any) -> str:
    """A cell as text: blank for nothing, a whole number without its ".0", trimmed."""
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
        return cell_text(value)
    text = cell_text(value).lstrip("'`")
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
    unreadable = answer(AnswerCode.BIRTH_DATE_UNREADABLE, value=cell_text(value))
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_serial(float(value)) or unreadable
    text = cell_text(value)
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
    text = cell_text(value).casefold()
    if not text or text == "-":
        return None
    match = _DECILE.match(text)
    if match and 1 <= int(match.group(1)) <= 10:
        return int(match.group(1))
    return "invalid"


def read_phone(value: Any) -> str | None:
    """The phone number as written; a number cell that lost its leading 0 gets it back."""
    text = cell_text(value)
    if not text:
        return None
    if isinstance(value, int | float) and text.startswith("8"):
        return "0" + text
    return text
