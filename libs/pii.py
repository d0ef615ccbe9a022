"""Masking of personal data (UU 27/2022 on personal data protection) for logs and error texts.

A NIK keeps its region (first 4 digits) and its last 2; a name keeps the first letter of each
word. Texts that may quote inputs (exception messages of pydantic and SQLAlchemy) lose the quoted
values: a name cannot be recognised by its shape, so the place that quotes it is cut instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from libs.nik import mask_nik as _mask_nik

_NIK_LIKE = re.compile(r"(?<!\d)(\d{4})\d{10}(\d{2})(?!\d)")
# pydantic: "... [type=string_too_long, input_value='Sahat Malau', input_type=str]"; up to the
# line's last ", input_type=" (the value itself may contain one), else to the end of the line.
_PYDANTIC_INPUT = re.compile(r"input_value=(?:.*(?=, input_type=)|.*)")
# SQLAlchemy: "[parameters: ('Sahat Malau', '1217...')]" (one line, before "(Background on ...")
_SQL_PARAMETERS = re.compile(r"\[parameters: .*")
# PostgreSQL: "DETAIL:  Key (full_name)=(Sahat Malau) already exists." / "Failing row contains (...)"
_SQL_DETAIL = re.compile(r"DETAIL:.*")


# What a personal field reads as once its person is forgotten (their key destroyed,
# libs/privacy): in every read model, export, annex and answer. Never masked further.
FORGOTTEN = "[dilupakan]"


def mask_nik(nik: str) -> str:
    """libs.nik.mask_nik ("1271**********01"), keeping FORGOTTEN as it is."""
    return nik if nik == FORGOTTEN else _mask_nik(nik)


def mask_name(name: str) -> str:
    """The first letter of each word, then three asterisks whatever the word's length."""
    if name == FORGOTTEN:
        return name
    return " ".join(f"{word[0]}***" for word in name.split())


def redact_niks(text: str) -> str:
    """`text` with every 16-digit run masked like mask_nik."""
    return _NIK_LIKE.sub(lambda m: f"{m.group(1)}{'*' * 10}{m.group(2)}", text)


def redact_personal_data(text: str) -> str:
    """`text` without NIKs and without the inputs exception messages quote (names among them)."""
    text = _PYDANTIC_INPUT.sub("input_value=<disembunyikan>", text)
    text = _SQL_PARAMETERS.sub("[parameters: <disembunyikan>]", text)
    text = _SQL_DETAIL.sub("DETAIL: <disembunyikan>", text)
    return redact_niks(text)


def _hidden(value: str) -> str:
    return "***" if value else value


# Fields of Lindung's contracts that hold personal data, wherever they sit in a payload.
PERSONAL_FIELDS: dict[str, Callable[[str], str]] = {
    "nik": mask_nik,
    "full_name": mask_name,
    "address": _hidden,
    "phone": _hidden,
}


# What Lindung stores encrypted under the person's key (libs/privacy): the masked fields and the
# birth date (which audit exports keep the year of instead).
ENCRYPTED_FIELDS: frozenset[str] = frozenset(PERSONAL_FIELDS) | {"birth_date"}


def mask_personal_fields(value: Any) -> Any:
    """A copy of a JSON value whose personal fields (PERSONAL_FIELDS, at any depth) are masked."""
    if isinstance(value, dict):
        return {
            key: PERSONAL_FIELDS[key](item)
            if key in PERSONAL_FIELDS and isinstance(item, str)
            else mask_personal_fields(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [mask_personal_fields(item) for item in value]
    return value
