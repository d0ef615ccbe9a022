"""Dates as officers and regency systems write them, and why a written date is not a date.

A date with the right shape may still not exist: 31 February, day 32, month 13. Saying "the
format is wrong" sends the officer looking at the separators; the answer says which part does
not exist (BIRTH_DATE_NONEXISTENT), on every way in: the upload, the JSON API, the inbound topic.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from libs.wording import BULAN
from services.registry.domain.answers import Answer, AnswerCode, answer

_ISO = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")
_D_MONTH_Y = re.compile(r"^(\d{1,2})[\s\-/.]+([a-z]+)[\s\-/.]+(\d{4})$")
_SPACES = re.compile(r"\s+")
MONTHS: dict[str, int] = {
    name: number
    for number, names in enumerate(
        (
            ("januari", "jan", "january"),
            ("februari", "feb", "pebruari", "peb", "february"),
            ("maret", "mar", "march"),
            ("april", "apr"),
            ("mei", "may"),
            ("juni", "jun", "june"),
            ("juli", "jul", "july"),
            ("agustus", "agu", "agt", "ags", "aug", "august"),
            ("september", "sep", "sept"),
            ("oktober", "okt", "oct", "october"),
            ("november", "nov", "nop", "nopember"),
            ("desember", "des", "dec", "december"),
        ),
        start=1,
    )
    for name in names
}
"""Month names and abbreviations, Indonesian and English, lower case."""


def date_parts(text: str) -> tuple[int, int, int] | None:
    """(year, month, day) as written: YYYY-MM-DD, DD-MM-YYYY (any of - / .), "5 Juli 1988"; a time
    after an ISO date is dropped. None when the text has none of these shapes. The numbers are
    not checked against the calendar: see :func:`nonexistent`."""
    text = _SPACES.sub(" ", text.strip().casefold())
    match = _ISO.match(text)
    if match:
        return int(match.group(1)), int(match.group(2)), int(match.group(3))
    match = _DMY.match(text)
    if match:
        return int(match.group(3)), int(match.group(2)), int(match.group(1))
    match = _D_MONTH_Y.match(text)
    if match and match.group(2) in MONTHS:
        return int(match.group(3)), MONTHS[match.group(2)], int(match.group(1))
    return None


def nonexistent(year: int, month: int, day: int, written: str) -> Answer | None:
    """Why (year, month, day) is not a day of the calendar, or None when it is one."""
    if not 1 <= month <= 12:
        why = f"bulan {month} tidak ada (bulan 1 sampai 12)"
    elif year < 1:
        why = f"tahun {year} tidak ada"
    else:
        days = calendar.monthrange(year, month)[1]
        if 1 <= day <= days:
            return None
        why = f"{BULAN[month - 1]} {year} hanya {days} hari" if day else "tanggal 0 tidak ada"
    return answer(AnswerCode.BIRTH_DATE_NONEXISTENT, value=written, why=why)


def calendar_date(text: str) -> date | Answer | None:
    """The date `text` names; the answer saying why it does not exist; None: not a date's shape."""
    parts = date_parts(text)
    if parts is None:
        return None
    year, month, day = parts
    return nonexistent(year, month, day, text.strip()) or date(year, month, day)


def birth_date_answer(errors: Iterable[Mapping[str, Any]]) -> Answer | None:
    """For pydantic's errors of a nomination: the answer for a birth date that does not exist."""
    for error in errors:
        loc = error.get("loc") or ()
        value = error.get("input")
        if loc and loc[-1] == "birth_date" and isinstance(value, str):
            found = calendar_date(value)
            if isinstance(found, Answer):
                return found
    return None
