"""Value types shared by several contracts."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

Sector = Literal["sawit", "non_sawit"]
Sex = Literal["L", "P"]
Rupiah = Annotated[int, Field(ge=0, description="Whole rupiah (integers, never floats).")]
# A personal field of a forgotten person reads as libs.pii.FORGOTTEN (docs/security.md,
# "Forgetting a person"): the types of personal fields admit it.
Forgotten = Literal["[dilupakan]"]
NikDigits = Annotated[
    str,
    Field(
        pattern=r"^(\d{16}|\[dilupakan\])$",
        description="NIK: 16 digits (personal data); [dilupakan] once the person is forgotten.",
    ),
]
RegencyCode = Annotated[
    str, Field(pattern=r"^12\.\d{2}$", description="Kemendagri code of a North Sumatra regency/city.")
]


class Funder(StrEnum):
    """Who pays the premiums of a programme."""

    APBD_PROVINSI = "APBD_PROVINSI"
    APBD_KABUPATEN = "APBD_KABUPATEN"
    DBH_SAWIT = "DBH_SAWIT"
    SILPA_DBH_SAWIT = "SILPA_DBH_SAWIT"
    OTHER = "OTHER"


class Reason(BaseModel):
    """Why something was refused: a stable machine code and a message for officers (Indonesian)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    message: str
    details: dict[str, str] = Field(default_factory=dict)


class WorkerIdentity(BaseModel):
    """The identity BPJS needs to register a participant. Personal data: never logged."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    nik: NikDigits
    full_name: str = Field(min_length=1, max_length=200)
    birth_date: str = Field(pattern=r"^(\d{4}-\d{2}-\d{2}|\[dilupakan\])$")
    sex: Sex
